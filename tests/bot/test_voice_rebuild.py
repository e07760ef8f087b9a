"""Voices after a TTS model switch, through the real bot and the fake Discord: rebuilt in
the background after login (on the random Chatterbox), and what members read meanwhile in
``/voice list``, ``/voice info``, ``/say`` and ``/cover``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.client import ParrotBot
from bot.runtime import build_engine, sample_limits
from bot.settings import Settings
from bot.store import Store
from bot.store.audit import ActorKind, AuditAction
from bot.store.models import Visibility, Voice, VoiceSource, VoiceStatus
from bot.store.rebuilds import RebuildState
from bot.voices.files import VoiceLibrary
from engine.api import SingingMethod
from tests.bot.conftest import reply_text, sub
from tests.bot.cover_support import cover
from tests.bot.speech_support import in_voice, say
from tests.conftest import started_bot
from tests.fakediscord import FakeDiscord, FakeGuild

OLD_MODEL = "chatterbox-turbo"
NEW_MODEL = "chatterbox-original"


async def startup_rebuild(parrot: ParrotBot) -> Any:
    task = parrot.get_cog("VoicesCog").rebuild.task  # type: ignore[union-attr]  # reloaded class
    assert task is not None
    return await asyncio.wait_for(task, 600)


async def voice_with_a_sample(parrot: ParrotBot, name: str, owner: dict[str, Any]) -> Voice:
    """A ready voice with one stored sample and no conditionals for the bot's model."""
    voice = await parrot.store.voices.create(
        name=name,
        owner_id=int(owner["id"]),
        guild_id=next(iter(parrot.guilds)).id,
        status=VoiceStatus.READY,
        tts_model=OLD_MODEL,
    )
    sample = parrot.library.folder(voice.id) / "samples" / "one.wav"
    sample.parent.mkdir(parents=True)
    sample.write_bytes(b"RIFF")  # never read: nothing is rebuilt in this test
    await parrot.store.voices.add_sample(
        voice_id=voice.id,
        path=parrot.library.relative(sample),
        original_name="one.wav",
        sha256="0" * 64,
        duration_s=4.0,
        sample_rate=24_000,
    )
    return voice


def embed(log: Any) -> dict[str, Any]:
    found: dict[str, Any] = log.callbacks[0]["data"]["embeds"][0]
    return found


def fields(log: Any) -> dict[str, str]:
    return {field["name"]: field["value"] for field in embed(log)["fields"]}


async def test_members_read_that_voices_are_being_prepared(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    assert await startup_rebuild(running_bot) is None  # nothing to rebuild at this start
    owner = people["owner"]
    waiting = await voice_with_a_sample(running_bot, "Waiting", owner)
    done = await voice_with_a_sample(running_bot, "Done", owner)
    broken = await voice_with_a_sample(running_bot, "Broken", owner)
    rebuilds = running_bot.store.voices.rebuilds
    model = running_bot.engine.backend_name
    await rebuilds.queue(model, [waiting.id, done.id, broken.id])  # as the start-up does
    (running_bot.library.folder(done.id) / f"conds-{model}.pt").write_bytes(b"built")
    await rebuilds.finish(done.id, model, RebuildState.DONE)
    detail = "one.wav is missing from the voice's folder"
    await rebuilds.finish(broken.id, model, RebuildState.FAILED, detail)

    log = await fake_discord.slash(guild, owner, "voice", sub("list"))
    await fake_discord.wait_for(lambda: log.answered)
    assert embed(log)["description"].splitlines() == [
        "• Broken (yours): could not be prepared for the new model",
        "• Done (yours)",
        "• Waiting (yours): being prepared for the new model (2 of 3)",
    ]

    log = await fake_discord.slash(guild, owner, "voice", sub("info", voice=waiting.id))
    await fake_discord.wait_for(lambda: log.answered)
    assert fields(log)["Status"] == "being prepared for the new model (2 of 3)"
    log = await fake_discord.slash(guild, owner, "voice", sub("info", voice=broken.id))
    await fake_discord.wait_for(lambda: log.answered)
    assert fields(log)["Status"] == f"could not be prepared for the new model: {detail}"

    await in_voice(running_bot, fake_discord, guild, owner)
    log = await say(fake_discord, guild, owner, "Hello.", voice=waiting.id)
    assert (
        "The voice **Waiting** is being prepared for the new model (2 of 3); "
        "please try again in a few minutes."
    ) in reply_text(log)
    log = await say(fake_discord, guild, owner, "Hello.", voice=broken.id)
    assert "could not be prepared for the new model; its owner can add a sample" in reply_text(log)

    # A zero-shot cover sings with the conditionals too: refused the same way, before the
    # song is taken (the engine's weight check is a stand-in: this bot has no cover models).
    async def zero_shot(method: SingingMethod, **options: Any) -> SingingMethod:
        return SingingMethod.ZERO_SHOT

    monkeypatch.setattr(running_bot.engine, "check_cover_available", zero_shot)
    song = tmp_path / "song.mp3"
    song.write_bytes(b"never read")
    log = await cover(fake_discord, guild, owner, song, waiting.id)
    await fake_discord.wait_for(lambda: log.answered and bool(log.followups), 30)
    assert "The voice **Waiting** is being prepared for the new model" in reply_text(log)
    assert not running_bot.cover_runner.jobs_dir.exists() or not any(
        running_bot.cover_runner.jobs_dir.iterdir()
    )


async def seed_voice_of_another_model(settings: Settings, clip: Path) -> tuple[str, bytes]:
    """Before the bot starts: a voice enrolled under turbo's label (its conditionals file
    stands in for turbo's), stored samples and all, as a model switch leaves it."""
    engine = build_engine(settings)
    try:
        async with await Store.open(settings.database_path) as store:
            library = VoiceLibrary(store, settings.data_dir)
            voice = await store.voices.create(
                name="Switched",
                owner_id=7,
                guild_id=8,
                visibility=Visibility.PRIVATE,
                source=VoiceSource.UPLOAD,
                status=VoiceStatus.READY,
            )
            folder = library.folder(voice.id)
            sample = await engine.prepare_sample(
                clip, folder / "samples" / "s1.wav", sample_limits(settings)
            )
            old = folder / f"conds-{OLD_MODEL}.pt"
            old.write_bytes(b"turbo's conditionals")
            await store.voices.set_conditionals(voice.id, library.relative(old), OLD_MODEL)
            await store.voices.add_sample(
                sample_id="s1",
                voice_id=voice.id,
                path=library.relative(sample.path),
                original_name="speech.wav",
                sha256=sample.sha256,
                duration_s=sample.duration_s,
                sample_rate=sample.sample_rate,
            )
    finally:
        await engine.shutdown()
    return voice.id, old.read_bytes()


async def test_a_voice_of_another_model_is_rebuilt_after_login(
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    speech_settings: Settings,
    speech_clips: dict[str, Path],
) -> None:
    voice_id, old_bytes = await seed_voice_of_another_model(speech_settings, speech_clips["wav"])
    async with started_bot(speech_settings) as parrot:
        assert parrot.engine.backend_name == NEW_MODEL
        report = await startup_rebuild(parrot)
        assert report is not None and [o.voice.id for o in report.rebuilt] == [voice_id]
        folder = parrot.library.folder(voice_id)
        assert parrot.engine.profile(folder).exists  # real conditionals, made by the model
        assert (folder / f"conds-{OLD_MODEL}.pt").read_bytes() == old_bytes  # kept
        voice = await parrot.store.voices.get(voice_id)
        assert voice is not None and voice.tts_model == NEW_MODEL
        progress = await parrot.store.voices.rebuilds.progress(NEW_MODEL)
        assert (progress.finished, progress.total) == (1, 1)
        [entry, *_] = await parrot.store.audit.entries(voice_id=voice_id)
        assert entry.action is AuditAction.REBUILD and entry.who.kind is ActorKind.SYSTEM
