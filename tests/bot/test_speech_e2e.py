"""Live speech heard through the fake Discord: the real bot, discord.py's Opus encoder and
transport encryption, the real Chatterbox package on random weights.

One bot (and one model load, one enrolled voice) serves the whole module: each test uses
members of its own and measures what the voice channel received from its own start.
:func:`~tests.bot.speech_support.live_stage` builds such a module-wide bot.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from unittest.mock import ANY

import discord
import numpy as np
import pytest
import pytest_asyncio

from bot.store.audit import AuditAction, Who
from bot.store.models import Visibility, Voice
from tests.bot.conftest import add_voice, reply_text, sub
from tests.bot.speech_support import (
    SpeechSpy,
    Stage,
    best_match,
    discord_mono,
    enrolled_voice,
    eventually,
    in_voice,
    live_stage,
    quick_speech_settings,
    say,
)
from tests.fakediscord import payloads
from tests.fakediscord.payloads import MANAGE_GUILD

pytestmark = pytest.mark.asyncio(loop_scope="module")

TWO_SENTENCES = "Hello there, friends. This is Parrot speaking."


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stage(
    tmp_path_factory: pytest.TempPathFactory,
    chatterbox_models_dir: Path,
    short_speech_clips: dict[str, Path],
) -> AsyncIterator[Stage]:
    """The random Chatterbox behind the bot, and Olive's voice (shared with the server)."""
    root = tmp_path_factory.mktemp("speech-e2e")
    settings = quick_speech_settings(root / "data", chatterbox_models_dir)
    async with live_stage(settings, root / "cwd") as world:
        owner = world.fake.add_member(world.guild, "olive")
        world.people = {
            "owner": owner,
            "other": world.fake.add_member(world.guild, "oscar"),
            "admin": world.fake.add_member(world.guild, "ada", permissions=MANAGE_GUILD),
        }
        world.voice = await enrolled_voice(world.bot, owner, short_speech_clips["wav"])
        yield world


def olive(stage: Stage) -> Voice:
    assert stage.voice is not None
    return stage.voice


@pytest_asyncio.fixture(loop_scope="module")
async def spy(stage: Stage) -> AsyncIterator[SpeechSpy]:
    watching = SpeechSpy(stage.bot)
    await watching.ready
    try:
        yield watching
    finally:
        watching.close()


async def test_say_streams_two_sentences_into_the_voice_channel(
    stage: Stage, spy: SpeechSpy
) -> None:
    fake, guild, speaker = stage.fake, stage.guild, stage.fake.add_member(stage.guild, "sam")
    await in_voice(stage.bot, fake, guild, speaker)
    session = fake.voice_session(guild)
    heard_before = len(session.voiced_packets)

    async def first_words_heard(_: str) -> None:
        await session.wait_for_packets(heard_before + 1, timeout=60)

    spy.hold_after_first_chunk = first_words_heard
    log = await say(fake, guild, speaker, TWO_SENTENCES, voice=olive(stage).id)
    assert "Saying it now" in reply_text(log) and "**Olive**" in reply_text(log)
    await eventually(lambda: len(spy.chunks) == 2, "two sentences synthesised")
    await session.wait_for_silence(timeout=60)  # discord.py's end-of-playback frames

    # The first words were heard while the second sentence was kept from the player.
    assert list(spy.heard_while_held.values()) == [True]
    packets = session.voiced_packets[heard_before:]

    # What Discord heard is what the engine made (through Opus), sentence by sentence.
    heard = session.audio(mono=True)
    matches = [best_match(heard, discord_mono(chunk)) for chunk in spy.chunks]
    print(f"\ncorrelation of heard vs synthesised audio per sentence: {matches}")
    assert min(matches) > 0.6

    times = [packet.arrival for packet in packets]
    gaps = [(later - earlier) * 1000 for earlier, later in itertools.pairwise(times)]
    p99 = float(np.percentile(gaps, 99))
    print(f"packet gaps: median {np.median(gaps):.1f} ms, p99 {p99:.1f} ms, max {max(gaps):.1f} ms")
    assert np.median(gaps) == pytest.approx(20, abs=3)
    assert p99 < 200  # generous: only a real stall (blocked loop, inference on the player)

    # The generation was recorded for history and stats.
    query = "SELECT * FROM generations WHERE user_id = ?"
    for _ in range(100):
        rows = await stage.bot.store.db.fetch_all(query, (int(speaker["id"]),))
        if rows:
            break
        await asyncio.sleep(0.05)
    assert len(rows) == 1 and rows[0]["voice_id"] == olive(stage).id
    assert rows[0]["kind"] == "speech" and rows[0]["audio_seconds"] > 0


async def test_autoread_reads_a_listeners_message_in_their_default_voice(
    stage: Stage, spy: SpeechSpy
) -> None:
    fake, guild, parrot = stage.fake, stage.guild, stage.bot
    owner, admin, other = stage.people["owner"], stage.people["admin"], stage.people["other"]
    await parrot.store.settings.set_member_voice(guild.id, int(owner["id"]), olive(stage).id)
    await parrot.store.settings.update_guild(guild.id, announce_names=1)
    log = await fake.slash(
        guild, admin, "autoread", [{"name": "enabled", "type": 5, "value": True}]
    )
    await fake.wait_for(lambda: log.answered)
    assert "Reading" in reply_text(log)
    denied = await fake.slash(
        guild, other, "autoread", [{"name": "enabled", "type": 5, "value": True}]
    )
    await fake.wait_for(lambda: denied.answered)
    assert "Manage Server" in reply_text(denied)
    entries = await parrot.store.audit.entries(guild_id=guild.id)
    (entry,) = [entry for entry in entries if entry.action is AuditAction.SETTINGS]
    assert entry.who == Who.member(int(admin["id"]))
    assert entry.detail == {"setting": "autoread_channel", "value": ANY}

    await in_voice(parrot, fake, guild, owner)
    joined = await fake.slash(guild, owner, "join")
    await fake.wait_for(lambda: bool(joined.followups), 30)
    session = fake.voice_session(guild)
    heard_before = len(session.voiced_packets)
    await fake.post_message(guild, other, "I am not in voice, so I am not read.")
    await fake.post_message(guild, owner, "**Hi** <https://example.com/x> everyone!")
    await eventually(lambda: len(spy.chunks) >= 1, "a message read aloud")
    # The chunk exists before it plays: wait for its packets (8 tokens, trimmed), then the end.
    await session.wait_for_packets(heard_before + 5, timeout=60)
    await session.wait_for_silence(timeout=60)
    assert [c.text for c in spy.chunks] == ["Olive says: Hi a link to example.com everyone!"]
    off = await fake.slash(
        guild, admin, "autoread", [{"name": "enabled", "type": 5, "value": False}]
    )
    await fake.wait_for(lambda: off.answered)
    await parrot.store.settings.update_guild(guild.id, announce_names=0)


async def test_refusals_are_specific(stage: Stage) -> None:
    fake, guild, parrot = stage.fake, stage.guild, stage.bot
    member, owner = fake.add_member(guild, "rita"), stage.people["owner"]
    log = await say(fake, guild, member, "Hello.")
    assert "Join a voice channel first" in reply_text(log)
    await in_voice(parrot, fake, guild, member)
    log = await say(fake, guild, member, "Hello.")
    assert "Pick a voice" in reply_text(log)
    log = await say(fake, guild, member, "Hello.", voice="nobody")
    assert "don't know a voice called `nobody`" in reply_text(log)
    log = await say(fake, guild, member, "x" * 400, voice="nobody")
    assert "400 characters; the limit here is 300" in reply_text(log)

    await add_voice(parrot, "Secret", owner, guild, visibility=Visibility.PRIVATE)
    log = await say(fake, guild, member, "Hello.", voice="Secret")
    assert "don't know a voice" in reply_text(log)  # someone else's private voice stays hidden

    try:
        await fake.set_voice_permissions(guild, deny=payloads.CONNECT)
        await asyncio.sleep(0.2)
        log = await say(fake, guild, member, "Hello.", voice="Olive")
        assert "missing the Connect permission" in reply_text(log)
        await fake.set_voice_permissions(guild, deny=payloads.SPEAK)
        await asyncio.sleep(0.2)
        log = await say(fake, guild, member, "Hello.", voice="Olive")
        assert "missing the Speak permission" in reply_text(log)
        for entry in log.callbacks + log.followups:
            assert (entry.get("data") or entry).get("flags", 0) & 64
    finally:
        await fake.set_voice_permissions(guild)  # the overwrite removed
        await asyncio.sleep(0.2)


async def test_skip_stop_queue_and_recovery_after_a_voice_server_failover(
    stage: Stage, spy: SpeechSpy
) -> None:
    fake, guild, parrot = stage.fake, stage.guild, stage.bot
    member, voice = fake.add_member(guild, "quinn"), olive(stage)
    await in_voice(parrot, fake, guild, member)
    session = fake.voice_session(guild)
    heard_before = len(session.voiced_packets)

    first = await say(fake, guild, member, "One. Two. Three. Four.", voice=voice.id)
    second = await say(fake, guild, member, "Five.", voice=voice.id)
    assert "Queued, 1 ahead" in reply_text(second)
    queue = await fake.slash(guild, member, "queue")
    await fake.wait_for(lambda: queue.answered)
    assert "One. Two." in reply_text(queue) and "Five." in reply_text(queue)

    await session.wait_for_packets(heard_before + 5, timeout=60)
    await fake.drop_voice(guild)  # the voice server fails over mid-sentence
    skip = await fake.slash(guild, member, "skip")
    await fake.wait_for(lambda: skip.answered)
    assert "Skipped" in reply_text(skip)
    await eventually(lambda: any(c.text == "Five." for c in spy.chunks), "the queue moving on")
    await session.wait_for_silence(timeout=60)
    assert "Four." not in [c.text for c in spy.chunks]  # the skipped text stopped being made
    assert first.followups  # the first /say was answered before it was skipped

    stop = await fake.slash(guild, member, "stop")
    await fake.wait_for(lambda: stop.answered)
    leave = await fake.slash(guild, member, "leave")
    await fake.wait_for(lambda: bool(leave.followups), 30)
    assert "Left the voice channel" in reply_text(leave)
    await eventually(lambda: not fake.voice.is_connected(guild.id), "the bot to leave", 10)


async def test_speech_queued_when_a_failover_left_the_connection_half_open(
    stage: Stage, spy: SpeechSpy
) -> None:
    """discord.py's reconnect waits for ever for a lost IP discovery answer: the sentence
    playing is cut off (its requester told), the next one joins the channel afresh."""
    fake, guild, parrot = stage.fake, stage.guild, stage.bot
    member, voice = fake.add_member(guild, "uma"), olive(stage)
    await in_voice(parrot, fake, guild, member)
    session = fake.voice_session(guild)
    heard = len(session.voiced_packets)
    await say(fake, guild, member, "Hello.", voice=voice.id)
    await session.wait_for_packets(heard + 5, timeout=60)  # the session outlives one test:
    await session.wait_for_silence(timeout=60)  # its silence after this test's audio
    player, connections = parrot.players.get(guild.id), len(session.connections)
    bot_voice = parrot.get_guild(guild.id).voice_client  # type: ignore[union-attr]
    assert player is not None and isinstance(bot_voice, discord.VoiceClient)
    grace, player.reconnect_grace = player.reconnect_grace, 1.0
    # How long discord.py's player waits for its reconnect (VoiceClient.timeout, read-only).
    bot_voice._connection.timeout = 2.0
    try:
        heard = len(session.voiced_packets)
        cut = await say(fake, guild, member, "One. Two. Three. Four. Five.", voice=voice.id)
        after = await say(fake, guild, member, "Back again.", voice=voice.id)
        await session.wait_for_packets(heard + 5, timeout=60)
        fake.voice.udp.lose_discoveries = 1
        await fake.drop_voice(guild)
        dropped = "My voice connection dropped while I was saying that"
        await fake.wait_for(lambda: any(dropped in text for text in cut.texts()), 60)
        await eventually(lambda: any(c.text == "Back again." for c in spy.chunks), "the next")
        await session.wait_for_silence(timeout=60)
    finally:
        player.reconnect_grace = grace
    assert len(session.connections) == connections + 2  # the stuck reconnect, then a join
    assert session.voiced_packets[-1].ssrc == session.ssrcs[-1]  # heard on the new one
    assert not any("voice connection" in text for text in after.texts())


async def test_hiding_the_voice_stops_its_speech_playing_and_waiting(
    stage: Stage, spy: SpeechSpy
) -> None:
    fake, guild, parrot = stage.fake, stage.guild, stage.bot
    member, voice = fake.add_member(guild, "rita"), olive(stage)
    await in_voice(parrot, fake, guild, member)
    session = fake.voice_session(guild)
    heard_before = len(session.voiced_packets)
    text = "One. Two. Three. Four. Five. Six. Eight. Nine. Ten. Eleven."
    playing = await say(fake, guild, member, text, voice=voice.id)
    waiting = await say(fake, guild, member, "Seven.", voice=voice.id)
    await session.wait_for_packets(heard_before + 5, timeout=60)
    try:
        hide = await fake.slash(
            guild, stage.people["admin"], "moderate", sub("hide", voice=voice.id, reason="Test")
        )
        await fake.wait_for(lambda: bool(hide.followups), 30)
        why = "The moderators hid the voice **Olive** in this server, so I stopped speaking"
        for log in (playing, waiting):
            await fake.wait_for(lambda log=log: any(why in text for text in log.texts()), 30)
        await session.wait_for_silence(timeout=60)
        assert "Seven." not in [chunk.text for chunk in spy.chunks]
    finally:
        await parrot.store.hides.unhide(voice.id, guild.id)


async def test_missing_model_and_busy_engine_are_explained(stage: Stage) -> None:
    import threading

    from engine.executor import Priority

    fake, guild, parrot = stage.fake, stage.guild, stage.bot
    member, voice = fake.add_member(guild, "bea"), olive(stage)
    await in_voice(parrot, fake, guild, member)
    executor = await parrot.engine._started()
    # what an earlier test stopped may still have a step in flight: start from an idle engine
    await eventually(lambda: not executor.busy and not executor.queued, "an idle engine", 30)
    release = threading.Event()
    max_queued, executor.max_queued = executor.max_queued, 1
    blocker = asyncio.ensure_future(
        executor.run(lambda _token: release.wait(30), priority=Priority.SPEECH)
    )
    await eventually(lambda: executor.busy, "the executor to be busy", 5)
    filler = asyncio.ensure_future(executor.run(lambda _token: None, priority=Priority.COVER))
    try:
        log = await say(fake, guild, member, "Hello there.", voice=voice.id)
        await fake.wait_for(lambda: len(log.followups) >= 2, 60)
        assert "voice engine is busy" in reply_text(log)
    finally:
        release.set()
        await blocker
        await filler
        executor.max_queued = max_queued

    backend = parrot.engine._backend
    assert backend is not None
    backend.unload()
    config, backend.config = (
        backend.config,
        type(backend.config)(data_dir=backend.config.data_dir, device="cpu"),
    )
    try:
        log = await say(fake, guild, member, "Hello again.", voice=voice.id)
        assert "is not downloaded on this bot yet" in reply_text(log)
        assert "`parrot models download original`" in reply_text(log)
    finally:
        backend.config = config  # the weights load again on the next use


async def test_idle_auto_leave(stage: Stage) -> None:
    fake, guild, parrot = stage.fake, stage.guild, stage.bot
    member = fake.add_member(guild, "ida")
    await parrot.players.leave(parrot.get_guild(guild.id))  # type: ignore[arg-type]  # the bot is in it
    await parrot.store.settings.update_guild(guild.id, idle_timeout_s=1)
    await in_voice(parrot, fake, guild, member)
    joined = await fake.slash(guild, member, "join")
    await fake.wait_for(lambda: bool(joined.followups), 30)
    assert fake.voice.is_connected(guild.id)
    await eventually(lambda: not fake.voice.is_connected(guild.id), "idle leave", 10)
    await eventually(lambda: parrot.players.get(guild.id) is None, "player forgotten", 5)
