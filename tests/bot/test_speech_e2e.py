"""Live speech heard through the fake Discord: the real bot, discord.py's Opus encoder and
transport encryption, the real Chatterbox package on random weights."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import numpy as np
import pytest

from bot.client import ParrotBot
from bot.runtime import sample_limits
from bot.store.audit import AuditAction, Who
from bot.store.models import Consent, ConsentPath, Visibility, Voice, VoiceSource
from bot.voice.pcm import to_discord_pcm
from bot.voices.enrolment import VoiceEnroller
from tests.bot.conftest import reply_text
from tests.fakediscord import FakeDiscord, FakeGuild, payloads

TWO_SENTENCES = "Hello there, friends. This is Parrot speaking."


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
    complete (the batched engine streams a piece in several chunks)."""

    def __init__(self, parrot: ParrotBot) -> None:
        self.chunks: list[Any] = []
        self.synthesised_at: list[float] = []
        original = parrot.engine.speak

        async def speak(*args: Any, **kwargs: Any) -> Any:
            async for chunk in original(*args, **kwargs):
                self.chunks.append(chunk)
                if chunk.ends_piece:
                    self.synthesised_at.append(time.perf_counter())
                yield chunk

        parrot.engine.speak = speak  # type: ignore[method-assign]
        self.ready = parrot.engine.check_model_available()


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
    opts = [{"name": "text", "type": 3, "value": text}]
    opts += [{"name": k, "type": 3, "value": v} for k, v in options.items()]
    log = await fake.slash(guild, user, "say", opts)
    await fake.wait_for(
        lambda: bool(log.followups) or any(c["type"] == 4 for c in log.callbacks), 60
    )
    return log


async def test_say_streams_two_sentences_into_the_voice_channel(
    speaking_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    short_speech_clips: dict[str, Path],
) -> None:
    owner = people["owner"]
    voice = await enrolled_voice(speaking_bot, owner, short_speech_clips["wav"])
    await in_voice(speaking_bot, fake_discord, guild, owner)
    spy = SpeechSpy(speaking_bot)
    await spy.ready
    session = fake_discord.voice_session(guild)

    log = await say(fake_discord, guild, owner, TWO_SENTENCES, voice=voice.id)
    assert "Saying it now" in reply_text(log) and "**Olive**" in reply_text(log)
    await eventually(lambda: len(spy.chunks) == 2, "two sentences synthesised")
    await session.wait_for_silence(timeout=60)  # discord.py's end-of-playback frames

    # The first words were heard before the last sentence had been synthesised.
    first_voiced = session.voiced_packets[0].arrival
    assert first_voiced < spy.synthesised_at[-1]

    # What Discord heard is what the engine made (through Opus), sentence by sentence.
    heard = session.audio(mono=True)
    matches = [best_match(heard, discord_mono(chunk)) for chunk in spy.chunks]
    print(f"\ncorrelation of heard vs synthesised audio per sentence: {matches}")
    assert min(matches) > 0.6

    gaps = session.gaps_ms()
    p99 = float(np.percentile(gaps, 99))
    print(f"packet gaps: median {np.median(gaps):.1f} ms, p99 {p99:.1f} ms, max {max(gaps):.1f} ms")
    assert np.median(gaps) == pytest.approx(20, abs=3)
    assert (
        p99 < 200
    )  # generous: only a real stall (blocked loop, inference on the player) breaks it

    # The generation was recorded for history and stats.
    for _ in range(100):
        rows = await speaking_bot.store.db.fetch_all("SELECT * FROM generations")
        if rows:
            break
        await asyncio.sleep(0.05)
    assert len(rows) == 1 and rows[0]["voice_id"] == voice.id and rows[0]["kind"] == "speech"
    assert rows[0]["audio_seconds"] > 0


async def test_autoread_reads_a_listeners_message_in_their_default_voice(
    speaking_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    short_speech_clips: dict[str, Path],
) -> None:
    owner, admin, other = people["owner"], people["admin"], people["other"]
    voice = await enrolled_voice(speaking_bot, owner, short_speech_clips["wav"])
    await speaking_bot.store.settings.set_member_voice(guild.id, int(owner["id"]), voice.id)
    await speaking_bot.store.settings.update_guild(guild.id, announce_names=1)
    log = await fake_discord.slash(
        guild, admin, "autoread", [{"name": "enabled", "type": 5, "value": True}]
    )
    await fake_discord.wait_for(lambda: log.answered)
    assert "Reading" in reply_text(log)
    denied = await fake_discord.slash(
        guild, other, "autoread", [{"name": "enabled", "type": 5, "value": True}]
    )
    await fake_discord.wait_for(lambda: denied.answered)
    assert "Manage Server" in reply_text(denied)
    entries = await speaking_bot.store.audit.entries(guild_id=guild.id)
    (entry,) = [entry for entry in entries if entry.action is AuditAction.SETTINGS]
    assert entry.who == Who.member(int(admin["id"]))
    assert entry.detail == {"setting": "autoread_channel", "value": ANY}

    await in_voice(speaking_bot, fake_discord, guild, owner)
    joined = await fake_discord.slash(guild, owner, "join")
    await fake_discord.wait_for(lambda: bool(joined.followups), 30)
    spy = SpeechSpy(speaking_bot)
    await spy.ready
    await fake_discord.post_message(guild, other, "I am not in voice, so I am not read.")
    await fake_discord.post_message(guild, owner, "**Hi** <https://example.com/x> everyone!")
    session = fake_discord.voice_session(guild)
    await eventually(lambda: len(spy.chunks) >= 1, "a message read aloud")
    await session.wait_for_silence(timeout=60)
    assert len(session.voiced_packets) >= 5  # 8 speech tokens, trimmed: a few frames
    assert [c.text for c in spy.chunks] == ["Olive says: Hi a link to example.com everyone!"]


async def test_refusals_are_specific(
    speaking_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    short_speech_clips: dict[str, Path],
) -> None:
    owner, other = people["owner"], people["other"]
    log = await say(fake_discord, guild, owner, "Hello.")
    assert "Join a voice channel first" in reply_text(log)
    await in_voice(speaking_bot, fake_discord, guild, owner)
    log = await say(fake_discord, guild, owner, "Hello.")
    assert "Pick a voice" in reply_text(log)
    log = await say(fake_discord, guild, owner, "Hello.", voice="nobody")
    assert "don't know a voice called `nobody`" in reply_text(log)
    log = await say(fake_discord, guild, owner, "x" * 400, voice="nobody")
    assert "400 characters; the limit here is 300" in reply_text(log)

    voice = await enrolled_voice(speaking_bot, owner, short_speech_clips["wav"])
    await speaking_bot.store.voices.set_visibility(voice.id, Visibility.PRIVATE)
    await in_voice(speaking_bot, fake_discord, guild, other)
    log = await say(fake_discord, guild, other, "Hello.", voice="Olive")
    assert "don't know a voice" in reply_text(log)  # someone else's private voice stays hidden

    await fake_discord.set_voice_permissions(guild, deny=payloads.CONNECT)
    await asyncio.sleep(0.2)
    log = await say(fake_discord, guild, owner, "Hello.", voice="Olive")
    assert "missing the Connect permission" in reply_text(log)
    await fake_discord.set_voice_permissions(guild, deny=payloads.SPEAK)
    await asyncio.sleep(0.2)
    log = await say(fake_discord, guild, owner, "Hello.", voice="Olive")
    assert "missing the Speak permission" in reply_text(log)
    for entry in log.callbacks + log.followups:
        assert (entry.get("data") or entry).get("flags", 0) & 64


async def test_missing_model_and_busy_engine_are_explained(
    speaking_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    short_speech_clips: dict[str, Path],
) -> None:
    import threading

    from engine.executor import Priority

    owner = people["owner"]
    voice = await enrolled_voice(speaking_bot, owner, short_speech_clips["wav"])
    await in_voice(speaking_bot, fake_discord, guild, owner)
    executor = await speaking_bot.engine._started()
    release = threading.Event()
    executor.max_queued = 1
    blocker = asyncio.ensure_future(
        executor.run(lambda _token: release.wait(30), priority=Priority.SPEECH)
    )
    await eventually(lambda: executor.busy, "the executor to be busy", 5)
    filler = asyncio.ensure_future(executor.run(lambda _token: None, priority=Priority.COVER))
    try:
        log = await say(fake_discord, guild, owner, "Hello there.", voice=voice.id)
        await fake_discord.wait_for(lambda: len(log.followups) >= 2, 60)
        assert "voice engine is busy" in reply_text(log)
    finally:
        release.set()
        await blocker
        await filler

    backend = speaking_bot.engine._backend
    assert backend is not None
    backend.unload()
    backend.config = type(backend.config)(data_dir=backend.config.data_dir, device="cpu")
    log = await say(fake_discord, guild, owner, "Hello again.", voice=voice.id)
    assert "is not downloaded on this bot yet" in reply_text(log)
    assert "`parrot models download original`" in reply_text(log)


async def test_skip_stop_queue_and_recovery_after_a_voice_server_failover(
    speaking_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    short_speech_clips: dict[str, Path],
) -> None:
    owner = people["owner"]
    voice = await enrolled_voice(speaking_bot, owner, short_speech_clips["wav"])
    await in_voice(speaking_bot, fake_discord, guild, owner)
    spy = SpeechSpy(speaking_bot)
    await spy.ready
    session = fake_discord.voice_session(guild)

    first = await say(fake_discord, guild, owner, "One. Two. Three. Four.", voice=voice.id)
    second = await say(fake_discord, guild, owner, "Five.", voice=voice.id)
    assert "Queued, 1 ahead" in reply_text(second)
    queue = await fake_discord.slash(guild, owner, "queue")
    await fake_discord.wait_for(lambda: queue.answered)
    assert "One. Two." in reply_text(queue) and "Five." in reply_text(queue)

    await session.wait_for_packets(5, timeout=60)
    await fake_discord.drop_voice(guild)  # the voice server fails over mid-sentence
    skip = await fake_discord.slash(guild, owner, "skip")
    await fake_discord.wait_for(lambda: skip.answered)
    assert "Skipped" in reply_text(skip)
    await eventually(lambda: any(c.text == "Five." for c in spy.chunks), "the queue moving on")
    await session.wait_for_silence(timeout=60)
    assert "Four." not in [c.text for c in spy.chunks]  # the skipped text stopped being made
    assert first.followups  # the first /say was answered before it was skipped

    stop = await fake_discord.slash(guild, owner, "stop")
    await fake_discord.wait_for(lambda: stop.answered)
    leave = await fake_discord.slash(guild, owner, "leave")
    await fake_discord.wait_for(lambda: bool(leave.followups), 30)
    assert "Left the voice channel" in reply_text(leave)
    await eventually(lambda: not fake_discord.voice.is_connected(guild.id), "the bot to leave", 10)


async def test_idle_auto_leave(
    speaking_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
) -> None:
    owner = people["owner"]
    await speaking_bot.store.settings.update_guild(guild.id, idle_timeout_s=1)
    await in_voice(speaking_bot, fake_discord, guild, owner)
    joined = await fake_discord.slash(guild, owner, "join")
    await fake_discord.wait_for(lambda: bool(joined.followups), 30)
    assert fake_discord.voice.is_connected(guild.id)
    await eventually(lambda: not fake_discord.voice.is_connected(guild.id), "idle leave", 10)
    await eventually(lambda: speaking_bot.players.get(guild.id) is None, "player forgotten", 5)
