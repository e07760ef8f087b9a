"""The stage of the live speech tests: the real bot on the fake Discord in one module-wide
world (:func:`live_stage`), an enrolled voice, members in a voice channel, ``/say``, and a
spy on what the engine made. Used by every module that hears speech."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.client import ParrotBot
from bot.runtime import sample_limits
from bot.settings import Settings
from bot.store.audit import Who
from bot.store.models import Consent, ConsentPath, Visibility, Voice, VoiceSource
from bot.voice.pcm import to_discord_pcm
from bot.voices.enrolment import VoiceEnroller
from engine.api import Engine
from tests.conftest import TEST_TOKEN
from tests.fakediscord import FakeDiscord, FakeGuild, InteractionLog


async def eventually(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.02)


async def enrolled_voice(parrot: ParrotBot, owner: dict[str, Any], clip: Path) -> Voice:
    """A voice enrolled through the same code as /voice enroll (the commands test covers
    the Discord side of enrolment)."""
    enroller = VoiceEnroller(
        parrot.store, parrot.library, parrot.engine, sample_limits(parrot.settings)
    )
    voice, _ = await enroller.enroll(
        "Olive",
        [clip],
        owner_id=int(owner["id"]),
        guild_id=next(iter(parrot.guilds)).id,
        visibility=Visibility.GUILD,
        source=VoiceSource.UPLOAD,
        consent=Consent.now(ConsentPath.DISCORD),
        who=Who.cli(),
    )
    return voice


async def in_voice(
    parrot: ParrotBot, fake: FakeDiscord, guild: FakeGuild, user: dict[str, Any]
) -> None:
    await fake.join_voice(guild, user)
    cached = parrot.get_guild(guild.id)
    assert cached is not None

    def seen() -> bool:
        member = cached.get_member(int(user["id"]))
        return member is not None and member.voice is not None

    await eventually(seen, "the member's voice state in the bot's cache", 5)


class SpeechSpy:
    """Watches the real engine: the chunks it made and when each text piece's audio was
    complete (the batched engine streams a piece in several chunks).

    With :attr:`hold_after_first_chunk` set, the spy keeps the rest of a stream from the
    player until that wait ends: if Discord hears the first chunk meanwhile, playback
    streams. An ordering, not a race between two clocks, so a loaded machine cannot fail it.
    """

    def __init__(self, parrot: ParrotBot) -> None:
        self.chunks: list[Any] = []
        self.streams: dict[str, list[Any]] = {}
        """The chunks of each text the engine was asked to speak."""
        self.synthesised_at: list[float] = []
        self.hold_after_first_chunk: Callable[[str], Awaitable[None]] | None = None
        """Given the stream's text, waits for what must happen before the player gets more."""
        self.heard_while_held: dict[str, bool] = {}
        """Per text held: whether the wait ended in time (False: it timed out)."""
        original = parrot.engine.speak

        async def speak(profile: Any, text: str, *args: Any, **kwargs: Any) -> Any:
            first = True
            async for chunk in original(profile, text, *args, **kwargs):
                self.chunks.append(chunk)
                self.streams.setdefault(text, []).append(chunk)
                if chunk.ends_piece:
                    self.synthesised_at.append(time.perf_counter())
                yield chunk
                if first and self.hold_after_first_chunk is not None:
                    self.heard_while_held[text] = await self._held(text)
                first = False

        parrot.engine.speak = speak  # type: ignore[method-assign]
        self.ready = parrot.engine.check_model_available()
        self._restore = lambda: setattr(parrot.engine, "speak", original)

    async def _held(self, text: str) -> bool:
        assert self.hold_after_first_chunk is not None
        try:
            await self.hold_after_first_chunk(text)
        except (TimeoutError, AssertionError):
            return False
        return True

    def close(self) -> None:
        """Unwrap the engine again (the bot outlives one test here)."""
        self._restore()


def best_match(heard: np.ndarray, part: np.ndarray) -> float:
    """The highest normalised correlation of ``part`` anywhere in ``heard``."""
    from scipy.signal import correlate

    products = correlate(heard, part, mode="valid", method="fft")
    energy = np.sqrt(np.convolve(heard**2, np.ones(len(part)), mode="valid"))
    return float(np.max(products / (energy * np.linalg.norm(part) + 1e-12)))


def discord_mono(chunk: Any) -> np.ndarray:
    pcm = np.frombuffer(to_discord_pcm(chunk.samples, chunk.sample_rate), dtype="<i2")
    return pcm[::2].astype(np.float32) / 32767


async def say(
    fake: FakeDiscord, guild: FakeGuild, user: dict[str, Any], text: str, **options: Any
) -> Any:
    types = {bool: 5, int: 4, float: 10}  # anything else is a string (type 3)
    opts = [{"name": "text", "type": 3, "value": text}]
    opts += [{"name": k, "type": types.get(type(v), 3), "value": v} for k, v in options.items()]
    log = await fake.slash(guild, user, "say", opts)
    await fake.wait_for(
        lambda: bool(log.followups) or any(c["type"] == 4 for c in log.callbacks), 60
    )
    return log


@dataclass
class Stage:
    """A fake Discord with one server, and the real bot logged in to it."""

    fake: FakeDiscord
    guild: FakeGuild
    bot: ParrotBot
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    voice: Voice | None = None
    """The module's enrolled voice, if it has one."""


@contextlib.asynccontextmanager
async def live_stage(
    settings: Settings, workdir: Path, *, engine: Engine | None = None
) -> AsyncIterator[Stage]:
    """What the function-scoped fixtures give one test (isolated environment, the fake
    Discord, ``Bot.start()`` until ready), for a whole module: one model load for all."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("PARROT_") or name == "DISCORD_TOKEN":
                patch.delenv(name)
        patch.setenv("HF_HUB_OFFLINE", "1")
        workdir.mkdir(parents=True, exist_ok=True)
        patch.chdir(workdir)
        fake = FakeDiscord()
        await fake.start()
        try:
            fake.install(patch)
            guild = fake.add_guild()
            parrot = ParrotBot(settings, engine=engine, guild_ready_timeout=0.2)
            task = asyncio.create_task(parrot.start(TEST_TOKEN))
            ready = asyncio.create_task(parrot.wait_until_ready())
            done, _ = await asyncio.wait(
                {task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED
            )
            if ready not in done:
                ready.cancel()
                if task in done:
                    task.result()  # raises the start-up failure
                raise TimeoutError("the bot did not become ready")
            try:
                yield Stage(fake, guild, parrot)
            finally:
                await parrot.close()
                await asyncio.wait_for(task, 10)
        finally:
            await fake.stop()


def quick_speech_settings(data_dir: Path, models_dir: Path, **changes: Any) -> Settings:
    """Speech capped to stay quick on random weights (8 tokens, 2 decoder steps)."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "references_dir": data_dir / "references",
        "discord_token": TEST_TOKEN,
        "device": "cpu",
        "models_dir": models_dir,
        "torch_threads": 1,
        "min_sample_seconds": 1.0,
        "speech_decoder_steps": 2,
        "speech_max_tokens": 8,
        "say_cooldown_seconds": 0,
        **changes,
    }
    return Settings(**values, _env_file=None)  # type: ignore[call-arg]  # pydantic-settings' own


EPHEMERAL = 64


def speech_options(command: str, **options: Any) -> list[dict[str, Any]]:
    """The options of ``/speech <command>`` (floats sent as Discord numbers)."""
    types = {bool: 5, int: 4, float: 10}
    inner = [
        {"name": key, "type": types.get(type(value), 3), "value": value}
        for key, value in options.items()
    ]
    return [{"name": command, "type": 1, "options": inner}]


async def ephemeral_command(
    fake: FakeDiscord, guild: FakeGuild, user: dict[str, Any], name: str, options: Any
) -> InteractionLog:
    """A command whose every answer must be ephemeral."""
    log = await fake.slash(guild, user, name, options)
    await fake.wait_for(lambda: log.answered)
    for body in log.messages():
        assert body.get("flags", 0) & EPHEMERAL, body
    return log
