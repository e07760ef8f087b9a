"""Enrolment and speech with the real chatterbox package on a random-weight checkpoint."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from engine.audio import AudioFormat, AudioRejectedError, RejectReason, encode
from engine.config import EngineConfig, SpeechScheduling
from engine.engine import Engine, SampleLimits, SpeechChunk
from engine.tts import ModelNotDownloadedError, SpeechParams, VoiceProfile
from engine.tts.chatterbox import ChatterboxBackend
from tests.engine.watermark import file_confidence, watermark_confidence

pytestmark = pytest.mark.asyncio(loop_scope="session")

# Random weights never emit the stop token: cap the work per chunk.
FAST = SpeechParams(max_tokens_per_chunk=8, decoder_steps=2, seed=7)
TOKEN_SAMPLES = 24_000 // 25  # audio per speech token
THREE_SENTENCES = "Hello there. This is Parrot speaking. Goodbye for now."


@pytest.fixture(scope="module")
def engine_config(
    chatterbox_models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> EngineConfig:
    return EngineConfig(
        data_dir=tmp_path_factory.mktemp("data"),
        device="cpu",
        models_dir=chatterbox_models_dir,
        torch_threads=1,
        speech_scheduling=SpeechScheduling.SERIAL,  # test_speech_batched covers the other
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def engine(engine_config: EngineConfig) -> AsyncIterator[Engine]:
    parrot_engine = Engine(engine_config)
    yield parrot_engine
    await parrot_engine.shutdown()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def enrolled(
    engine: Engine, short_speech_clips: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> VoiceProfile:
    # Short clips keep S3Gen's reference prompt (and so every test synthesis) short.
    folder = tmp_path_factory.mktemp("voice")
    sources = [short_speech_clips["wav"], short_speech_clips["mp3"], short_speech_clips["ogg"]]
    profile, prepared = await engine.enroll(folder, sources, SampleLimits(min_seconds=1.0))
    assert len(prepared) == 3
    return profile


@dataclass
class InstrumentedRun:
    chunks: list[SpeechChunk]
    received_at: list[float]
    synthesized_at: list[float]
    loop_lags: list[float]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def three_sentences(engine: Engine, enrolled: VoiceProfile) -> InstrumentedRun:
    """One streamed synthesis, watched from the model side and from the event loop."""
    backend = engine._backend
    assert backend is not None
    original = backend.generate
    run = InstrumentedRun([], [], [], [])

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = original(*args, **kwargs)
        run.synthesized_at.append(time.monotonic())
        return result

    done = asyncio.Event()

    async def probe() -> None:
        while not done.is_set():
            start = time.perf_counter()
            await asyncio.sleep(0.005)
            run.loop_lags.append(time.perf_counter() - start - 0.005)

    backend.generate = timed  # type: ignore[method-assign]
    prober = asyncio.create_task(probe())
    try:
        async for chunk in engine.speak(enrolled, THREE_SENTENCES, FAST):
            run.received_at.append(time.monotonic())
            run.chunks.append(chunk)
    finally:
        backend.generate = original  # type: ignore[method-assign]
        done.set()
        await prober
    return run


async def test_enrolment_from_wav_mp3_and_ogg(enrolled: VoiceProfile) -> None:
    samples = sorted((enrolled.folder / "samples").glob("*.wav"))
    assert len(samples) == 3
    assert enrolled.conditionals.is_file()
    assert enrolled.conditionals.name == "conds-chatterbox-original.pt"
    assert enrolled.reference.is_file()
    assert 3 < enrolled.reference_seconds <= 30  # three short clips and two gaps


async def test_conditionals_reload_from_disk(
    enrolled: VoiceProfile, engine_config: EngineConfig
) -> None:
    backend = ChatterboxBackend(engine_config, "cpu")
    conditionals = backend.load_conditionals(enrolled.conditionals)
    assert conditionals.t3.speaker_emb.shape == (1, 256)
    assert conditionals.gen["prompt_feat"].shape[-1] == 80


async def test_speech_chunks_are_finite_mono_24k(three_sentences: InstrumentedRun) -> None:
    chunks = three_sentences.chunks
    assert [c.text for c in chunks] == [
        "Hello there.",
        "This is Parrot speaking.",
        "Goodbye for now.",
    ]
    for chunk in chunks:
        assert chunk.sample_rate == 24_000
        assert chunk.samples.dtype == np.float32 and chunk.samples.ndim == 1
        assert 0 < len(chunk.samples) <= (FAST.max_tokens_per_chunk or 0) * TOKEN_SAMPLES
        assert np.isfinite(chunk.samples).all()


async def test_chatterboxs_own_loop_prints_no_progress_bar(
    engine: Engine, enrolled: VoiceProfile, capfd: pytest.CaptureFixture[str]
) -> None:
    """The serial path runs T3's own sampling loop, which draws a tqdm bar per sentence."""
    capfd.readouterr()
    await engine.synthesize(enrolled, "Quiet please.", FAST)
    captured = capfd.readouterr()
    assert "Sampling" not in captured.err + captured.out
    assert "it/s]" not in captured.err and "s/it]" not in captured.err


async def test_same_seed_same_audio(engine: Engine, enrolled: VoiceProfile) -> None:
    first = await engine.synthesize(enrolled, "Seeded speech.", FAST)
    second = await engine.synthesize(enrolled, "Seeded speech.", FAST)
    other = await engine.synthesize(enrolled, "Seeded speech.", FAST.with_seed(8))
    np.testing.assert_array_equal(first.samples, second.samples)
    assert not np.array_equal(
        first.samples[: len(other.samples)], other.samples[: len(first.samples)]
    )


async def test_first_chunk_arrives_before_the_last_is_synthesized(
    three_sentences: InstrumentedRun,
) -> None:
    assert len(three_sentences.synthesized_at) == 3
    assert three_sentences.received_at[0] < three_sentences.synthesized_at[-1]


async def test_output_carries_the_perth_watermark(
    engine: Engine, enrolled: VoiceProfile, tmp_path: Path
) -> None:
    params = SpeechParams(max_tokens_per_chunk=40, decoder_steps=2, seed=3)
    audio = await engine.synthesize(enrolled, "Watermarked.", params)
    marked = await asyncio.to_thread(watermark_confidence, audio.samples, audio.sample_rate)
    rng = np.random.default_rng(0)
    plain = (rng.standard_normal(len(audio.samples)) * 0.1).astype(np.float32)
    unmarked = await asyncio.to_thread(watermark_confidence, plain, audio.sample_rate)
    assert marked > 0.8
    assert unmarked < 0.5
    # The files `parrot say` writes (same encoder) still carry it.
    for fmt in (AudioFormat.MP3, AudioFormat.OGG_OPUS):
        path = tmp_path / f"speech.{fmt.value}"
        await asyncio.to_thread(encode, audio, path, fmt)
        assert await asyncio.to_thread(file_confidence, path) > 0.8, fmt


async def test_event_loop_stays_responsive_during_synthesis(
    three_sentences: InstrumentedRun,
) -> None:
    lags = three_sentences.loop_lags
    assert len(lags) > 20
    # The worker holds the GIL a switch interval (5 ms) at a time at most: the median
    # lag shows the loop is not blocked; the maximum is bounded generously for busy CI.
    assert statistics.median(lags) < 0.020
    assert max(lags) < 0.25


async def test_missing_weights_fail_fast_with_the_download_command(
    tmp_path: Path,
) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    config = EngineConfig(data_dir=tmp_path, device="cpu", models_dir=tmp_path / "empty")
    backend = ChatterboxBackend(config, "cpu")
    started = time.perf_counter()
    with pytest.raises(ModelNotDownloadedError, match="parrot models download original"):
        backend.load()
    assert time.perf_counter() - started < 1.0


async def test_silent_sample_is_rejected_with_its_reason(engine: Engine, tmp_path: Path) -> None:
    import soundfile

    silent = tmp_path / "silence.wav"
    soundfile.write(silent, np.zeros(24_000 * 5, dtype=np.float32), 24_000)
    folder = tmp_path / "voice"
    with pytest.raises(AudioRejectedError) as rejected:
        await engine.enroll(folder, [silent], SampleLimits())
    assert rejected.value.reason is RejectReason.SILENT


async def test_engine_status_reports_the_loaded_model(
    engine: Engine, enrolled: VoiceProfile
) -> None:
    status = await engine.status()
    assert status.device == "cpu"
    assert status.loaded_models == ["chatterbox-original"]
    assert status.state == "ready"


async def test_a_chunk_without_speech_tokens_is_a_short_pause_not_a_crash(
    engine: Engine, enrolled: VoiceProfile
) -> None:
    """A model that stops at once (only special tokens) must not crash S3Gen's vocoder."""
    backend = engine._backend
    assert backend is not None
    t3 = backend.model.t3  # type: ignore[attr-defined]
    original = t3.inference

    def only_stop_token(*args, **kwargs):  # type: ignore[no-untyped-def]
        import torch

        return torch.tensor([[t3.hp.stop_speech_token]])

    t3.inference = only_stop_token
    try:
        chunks = [c async for c in engine.speak(enrolled, "Hello.", FAST)]
    finally:
        t3.inference = original
    assert len(chunks) == 1
    assert 0 < chunks[0].duration <= 0.2 and not np.any(chunks[0].samples)
