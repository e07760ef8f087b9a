"""Chatterbox Turbo through Engine.speak on random weights: its GPT-2 decoder in the batch,
its mean-flow S3Gen streamed in pieces, watermarked, reproducible, without Turbo's own loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from engine.api import Engine, EngineConfig, SampleLimits, SpeechParams, TTSModel
from engine.tts import VoiceProfile
from tests.checkpoints.chatterbox_turbo import shrunk_gpt2, turbo_checkpoint
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
