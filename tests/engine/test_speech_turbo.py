"""Chatterbox Turbo through Engine.speak on random weights: its GPT-2 decoder in the batch,
its mean-flow S3Gen streamed in pieces, watermarked, reproducible, without Turbo's own loop;
and the same engine behind the real bot, speaking ``/say`` into the fake Discord's voice
channel (one model load for the whole module).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from bot.settings import Settings
from bot.store.models import Visibility, VoiceSource, VoiceStatus
from engine.api import Engine, EngineConfig, SampleLimits, SpeechParams, TTSModel
from engine.tts import VoiceProfile
from tests.bot.conftest import reply_text
from tests.bot.speech_support import ephemeral_command as run
from tests.bot.speech_support import in_voice, live_stage, say
from tests.bot.speech_support import speech_options as speech
from tests.checkpoints.chatterbox_turbo import shrunk_gpt2, turbo_checkpoint
from tests.conftest import TEST_TOKEN
from tests.engine.speech import espeak
from tests.engine.watermark import watermark_confidence

pytestmark = pytest.mark.asyncio(loop_scope="session")

STREAMED = SpeechParams(max_tokens_per_chunk=25, seed=5)
SHORT = SpeechParams(max_tokens_per_chunk=12, seed=5)


@pytest.fixture(scope="module")
def turbo_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with shrunk_gpt2():
        models = tmp_path_factory.mktemp("turbo-models")
        (models / "chatterbox-turbo").symlink_to(turbo_checkpoint(), target_is_directory=True)
        yield models


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def engine(
    turbo_models: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Engine]:
    config = EngineConfig(
        data_dir=tmp_path_factory.mktemp("data"),
        device="cpu",
        tts_model=TTSModel.TURBO,
        models_dir=turbo_models,
        torch_threads=1,
        max_speech_batch=2,
        first_audio_tokens=15,
    )
    parrot = Engine(config)
    yield parrot
    await parrot.shutdown()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def voice(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> VoiceProfile:
    folder = tmp_path_factory.mktemp("turbo-voice")
    clip = espeak(folder / "long.wav", speed=110)  # Turbo wants more than 5 s
    profile, _ = await engine.enroll(folder / "voice", [clip], SampleLimits(min_seconds=1.0))
    return profile


async def test_turbo_streams_watermarked_reproducible_speech(
    engine: Engine, voice: VoiceProfile, capfd: pytest.CaptureFixture[str]
) -> None:
    chunks = [c async for c in engine.speak(voice, "Turbo talks quickly.", STREAMED)]
    assert engine.batched_speech
    assert len(chunks) >= 2 and not chunks[0].ends_piece and chunks[-1].ends_piece
    audio = np.concatenate([c.samples for c in chunks])
    # 25 tokens and Turbo's three closing silence tokens, 40 ms each (the tail is trimmed).
    assert 0 < len(audio) <= 28 * 960 and np.isfinite(audio).all()
    assert await asyncio.to_thread(watermark_confidence, audio, 24_000) > 0.8
    again = await engine.synthesize(voice, "Turbo talks quickly.", STREAMED)
    np.testing.assert_array_equal(again.samples, audio)
    assert "Sampling" not in capfd.readouterr().err  # Turbo's own loop (and its bar) unused


async def test_two_turbo_texts_decode_together(engine: Engine, voice: VoiceProfile) -> None:
    texts = ["First speaker here.", "Second speaker here."]
    results = await asyncio.gather(
        *(engine.synthesize(voice, text, SHORT.with_seed(n)) for n, text in enumerate(texts))
    )
    assert all(result.duration > 0 for result in results)
    assert not np.array_equal(results[0].samples[:4800], results[1].samples[:4800])


async def test_turbo_speaks_say_in_discord_and_notes_the_style_it_ignores(
    engine: Engine, voice: VoiceProfile, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Last in the module: closing the bot shuts the module's engine down."""
    root = tmp_path_factory.mktemp("turbo-bot")
    settings = Settings(
        data_dir=root / "data",
        references_dir=root / "references",
        discord_token=TEST_TOKEN,
        device="cpu",
        tts_model=TTSModel.TURBO,
        speech_max_tokens=12,
        _env_file=None,  # type: ignore[call-arg]
    )
    async with live_stage(settings, root / "cwd", engine=engine) as stage:
        fake, guild, parrot = stage.fake, stage.guild, stage.bot
        member = fake.add_member(guild, "tess")
        enrolled = await parrot.store.voices.create(
            name="Tess",
            owner_id=int(member["id"]),
            guild_id=guild.id,
            visibility=Visibility.GUILD,
            source=VoiceSource.UPLOAD,
            status=VoiceStatus.READY,
        )
        folder = parrot.library.folder(enrolled.id)  # the module's enrolled voice, copied
        folder.mkdir(parents=True)
        (folder / voice.conditionals.name).write_bytes(voice.conditionals.read_bytes())
        await in_voice(parrot, fake, guild, member)

        log = await say(fake, guild, member, "Hi there.", voice=enrolled.id, expressiveness=1.2)
        assert "Saying it now" in reply_text(log)
        assert "the turbo model ignores expressiveness." in reply_text(log)
        await fake.voice_session(guild).wait_for_packets(5, timeout=60)
        styled = await run(fake, guild, member, "speech", speech("style", guidance=0.3))
        assert "the turbo model ignores guidance." in reply_text(styled)
