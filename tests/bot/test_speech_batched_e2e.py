"""/say from several servers at once: the real bot on the fake Discord, the batched engine
on the random Chatterbox. Every voice channel hears its own text, the first audio plays
before the first sentence has been decoded, and what Discord receives carries the mark.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import resample_poly

from bot.client import ParrotBot
from bot.runtime import sample_limits
from bot.settings import Settings
from bot.store.audit import Who
from bot.store.models import Consent, ConsentPath, Visibility, VoiceSource
from bot.voices.enrolment import VoiceEnroller
from tests.bot.speech_support import SpeechSpy, in_voice, say
from tests.conftest import started_bot
from tests.engine.decoder_support import watch_decoder
from tests.engine.watermark import watermark_confidence
from tests.fakediscord import FakeDiscord, FakeGuild

SERVERS = 2


@pytest.fixture
def servers(fake_discord: FakeDiscord) -> list[FakeGuild]:
    return [fake_discord.add_guild(f"Server {n}") for n in range(SERVERS)]


@pytest.fixture
async def batched_bot(
    fake_discord: FakeDiscord, servers: list[FakeGuild], speech_settings: Settings
) -> AsyncIterator[ParrotBot]:
    settings = speech_settings.model_copy(
        update={"speech_max_tokens": 30, "first_audio_tokens": 10, "max_speech_batch": 4}
    )
    async with started_bot(settings) as parrot:
        yield parrot


async def test_say_in_several_servers_at_once_streams_to_each(
    batched_bot: ParrotBot,
    fake_discord: FakeDiscord,
    servers: list[FakeGuild],
    short_speech_clips: dict[str, Path],
) -> None:
    parrot = batched_bot
    spy = SpeechSpy(parrot)
    await spy.ready  # the engine has started: its decoder can be watched
    watch = watch_decoder(parrot.engine)

    people = []
    voices = []
    enroller = VoiceEnroller(
        parrot.store, parrot.library, parrot.engine, sample_limits(parrot.settings)
    )
    for number, server in enumerate(servers):
        member = fake_discord.add_member(server, f"speaker{number}")
        voice, _ = await enroller.enroll(
            f"Voice{number}",
            [short_speech_clips["wav"]],
            owner_id=int(member["id"]),
            guild_id=server.id,
            visibility=Visibility.GUILD,
            source=VoiceSource.UPLOAD,
            consent=Consent.now(ConsentPath.DISCORD),
            who=Who.cli(),
        )
        await in_voice(parrot, fake_discord, server, member)
        people.append(member)
        voices.append(voice)

    texts = [f"Hello from server {n}. Bye." for n in range(SERVERS)]
    sessions = [fake_discord.voice_session(server) for server in servers]
    session_of = dict(zip(texts, sessions, strict=True))

    async def first_words_heard(text: str) -> None:
        await session_of[text].wait_for_packets(1, timeout=60)

    # Each stream's later audio is kept from the player until its channel heard the first.
    spy.hold_after_first_chunk = first_words_heard
    logs = await asyncio.gather(
        *(
            say(fake_discord, server, member, text, voice=v.id)
            for server, member, v, text in zip(servers, people, voices, texts, strict=True)
        )
    )
    for log in logs:
        assert log.followups or log.callbacks
    for session in sessions:
        await session.wait_for_packets(5, timeout=120)
    for session in sessions:
        await session.wait_for_silence(timeout=120)

    assert max(watch.widths) >= 2, "the servers' sentences never shared a decode step"
    # Every channel heard its first words before its first sentence had been decoded: the
    # first sentence came in more than one chunk, and the first was heard alone.
    for text in texts:
        first_sentence = [chunk for chunk in spy.streams[text] if chunk.index == 0]
        assert len(first_sentence) >= 2, f"{text!r}: the first sentence came in one chunk"
    assert spy.heard_while_held == dict.fromkeys(texts, True)

    # The player sends silent frames while it waits for audio (slow CPUs); the mark is
    # looked for in the frames that carry sound.
    frames = sessions[0].audio(mono=True).reshape(-1, 960)
    heard = frames[np.abs(frames).max(axis=1) > 1e-4].reshape(-1)
    at_24k = resample_poly(heard, 1, 2).astype(np.float32)
    confidence = await asyncio.to_thread(watermark_confidence, at_24k, 24_000)
    print(f"\nwatermark confidence in what Discord received: {confidence:.2f}")

    assert confidence > 0.5
