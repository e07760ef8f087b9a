"""/say from several servers at once: the real bot on the fake Discord, the batched engine
on the random Chatterbox. Every voice channel hears its own text, the first audio plays
before the first sentence has been decoded, and what Discord receives carries the mark.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.signal import resample_poly

from bot.client import ParrotBot
from bot.runtime import sample_limits
from bot.settings import Settings
from bot.store.audit import Who
from bot.store.models import Consent, ConsentPath, Visibility, VoiceSource
from bot.voices.enrolment import VoiceEnroller
from tests.bot.speech_support import in_voice, say
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
    await parrot.engine.check_model_available()
    watch = watch_decoder(parrot.engine)
    original_speak = parrot.engine.speak

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
    first_sentence_done: dict[str, float] = {}  # text -> its first sentence's last audio

    async def speak(profile: Any, text: str, *args: Any, **kwargs: Any) -> Any:
        async for chunk in original_speak(profile, text, *args, **kwargs):
            if chunk.index == 0 and chunk.ends_piece:
                first_sentence_done[text] = time.perf_counter()
            yield chunk

    parrot.engine.speak = speak  # type: ignore[method-assign]
    sessions = [fake_discord.voice_session(server) for server in servers]
    started = time.perf_counter()
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
    # Every channel heard its first words before its first sentence had been decoded.
    for session, text in zip(sessions, texts, strict=True):
        first_packet = session.voiced_packets[0].arrival
        assert started < first_packet < first_sentence_done[text]

    # The player sends silent frames while it waits for audio (slow CPUs); the mark is
    # looked for in the frames that carry sound.
    frames = sessions[0].audio(mono=True).reshape(-1, 960)
    heard = frames[np.abs(frames).max(axis=1) > 1e-4].reshape(-1)
    at_24k = resample_poly(heard, 1, 2).astype(np.float32)
    confidence = await asyncio.to_thread(watermark_confidence, at_24k, 24_000)
    print(f"\nwatermark confidence in what Discord received: {confidence:.2f}")

    assert confidence > 0.5
