"""Engine.speak through the batched scheduler on the random Chatterbox: many texts share one
decode step, audio arrives before a sentence is decoded, cancels leave at the next step.

The decoder is watched through a test double around the real one (it records how many
requests each step covered and when requests finished); everything else is the product.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from engine.api import DecoderBusyError, Engine, EngineConfig, SampleLimits, SpeechParams
from engine.executor import Priority
from engine.speech import SpeechChunk, scheduler
from engine.speech.utterance import Utterance
from engine.tts import VoiceProfile
from tests.engine.decoder_support import DecoderWatch, watch_decoder
from tests.engine.watermark import watermark_confidence

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAX_BATCH = 4
FIRST_AUDIO_TOKENS = 10
STREAMED = SpeechParams(max_tokens_per_chunk=30, decoder_steps=2, seed=7)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def engine(
    chatterbox_models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Engine]:
    config = EngineConfig(
        data_dir=tmp_path_factory.mktemp("data"),
        device="cpu",
        models_dir=chatterbox_models_dir,
        torch_threads=1,
        max_speech_batch=MAX_BATCH,
        first_audio_tokens=FIRST_AUDIO_TOKENS,
    )
    parrot_engine = Engine(config)
    await parrot_engine.check_model_available()
    yield parrot_engine
    await parrot_engine.shutdown()


@pytest.fixture(scope="module")
def watch(engine: Engine) -> DecoderWatch:
    return watch_decoder(engine)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def enrolled(
    engine: Engine,
    watch: DecoderWatch,
    short_speech_clips: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> VoiceProfile:
    folder = tmp_path_factory.mktemp("voice")
    profile, _ = await engine.enroll(
        folder, [short_speech_clips["wav"]], SampleLimits(min_seconds=1.0)
    )
    assert engine.batched_speech
    return profile


async def timed_chunks(
    engine: Engine, profile: VoiceProfile, text: str, params: SpeechParams
) -> list[tuple[float, SpeechChunk]]:
    return [(time.monotonic(), chunk) async for chunk in engine.speak(profile, text, params)]


async def test_first_audio_arrives_before_the_sentence_is_decoded(
    engine: Engine, enrolled: VoiceProfile, watch: DecoderWatch
) -> None:
    before = set(watch.finished_at)
    received = await timed_chunks(engine, enrolled, "One sentence only.", STREAMED)
    (finished,) = [at for rid, at in watch.finished_at.items() if rid not in before]
    assert len(received) >= 2
    first_at, first = received[0]
    assert not first.ends_piece and received[-1][1].ends_piece
    assert first_at < finished
    assert all(chunk.index == 0 and chunk.text == "One sentence only." for _, chunk in received)
    seconds = sum(chunk.duration for _, chunk in received)
    assert 0 < seconds <= 30 / 25 + 0.1  # 30 tokens at most, 25 a second


async def test_texts_from_several_servers_share_each_decode_step(
    engine: Engine, enrolled: VoiceProfile, watch: DecoderWatch
) -> None:
    watch.widths.clear()
    texts = [f"Server {n} says hello." for n in range(MAX_BATCH)]
    results = await asyncio.gather(
        *(
            timed_chunks(engine, enrolled, text, STREAMED.with_seed(n))
            for n, text in enumerate(texts)
        )
    )
    assert max(watch.widths) == MAX_BATCH
    for text, received in zip(texts, results, strict=True):
        chunks = [chunk for _, chunk in received]
        assert [c.index for c in chunks] == sorted(c.index for c in chunks)
        assert sum(c.ends_piece for c in chunks) == 1 and chunks[-1].ends_piece
        assert chunks[0].text in text and all(np.isfinite(c.samples).all() for c in chunks)


async def test_same_seed_same_audio(engine: Engine, enrolled: VoiceProfile) -> None:
    params = SpeechParams(max_tokens_per_chunk=20, decoder_steps=2, seed=7)  # two pieces
    first = await engine.synthesize(enrolled, "Seeded speech.", params)
    second = await engine.synthesize(enrolled, "Seeded speech.", params)
    other = await engine.synthesize(enrolled, "Seeded speech.", params.with_seed(8))
    np.testing.assert_array_equal(first.samples, second.samples)
    shortest = min(len(first.samples), len(other.samples))
    assert not np.array_equal(first.samples[:shortest], other.samples[:shortest])


async def test_streamed_speech_carries_the_watermark(
    engine: Engine, enrolled: VoiceProfile
) -> None:
    params = SpeechParams(max_tokens_per_chunk=60, decoder_steps=2, seed=3)
    chunks = [chunk async for chunk in engine.speak(enrolled, "Watermarked words.", params)]
    assert len(chunks) >= 2  # streamed in pieces
    audio = np.concatenate([chunk.samples for chunk in chunks])
    marked = await asyncio.to_thread(watermark_confidence, audio, 24_000)
    rng = np.random.default_rng(0)
    plain = (rng.standard_normal(len(audio)) * 0.1).astype(np.float32)
    unmarked = await asyncio.to_thread(watermark_confidence, plain, 24_000)
    assert marked > 0.8 and unmarked < 0.5


async def test_past_the_maximum_batch_the_answer_is_busy(
    engine: Engine, enrolled: VoiceProfile
) -> None:
    long = SpeechParams(max_tokens_per_chunk=200, decoder_steps=2, seed=1)
    streams = [engine.speak(enrolled, f"Long text {n}.", long) for n in range(MAX_BATCH)]
    try:
        firsts = await asyncio.gather(*(anext(stream) for stream in streams))
        assert len(firsts) == MAX_BATCH
        with pytest.raises(DecoderBusyError) as busy:
            await anext(engine.speak(enrolled, "One too many.", long))
        assert "too many people" in busy.value.for_member()
    finally:
        for stream in streams:
            await stream.aclose()
    # Their places are free again.
    chunks = [c async for c in engine.speak(enrolled, "Room again.", STREAMED)]
    assert chunks[-1].ends_piece


async def test_a_cancelled_text_leaves_the_batch_at_the_next_step(
    engine: Engine, enrolled: VoiceProfile, watch: DecoderWatch
) -> None:
    long = SpeechParams(max_tokens_per_chunk=400, decoder_steps=2, seed=2)
    stream = engine.speak(enrolled, "A very long sentence nobody will hear.", long)
    await anext(stream)
    steps_before = len(watch.step_times)
    await stream.aclose()  # a /skip
    executor = await engine._started()
    deadline = time.monotonic() + 60
    while executor.busy or executor.queued:
        assert time.monotonic() < deadline, "the decoder kept working on a cancelled text"
        await asyncio.sleep(0.01)
    assert len(watch.step_times) - steps_before <= 2
    assert len(watch.step_times) - steps_before < 400 - FIRST_AUDIO_TOKENS


@pytest.mark.parametrize("listeners_ahead", [True, False])
async def test_other_work_runs_amid_speech_only_while_listeners_have_audio_ahead(
    engine: Engine,
    enrolled: VoiceProfile,
    watch: DecoderWatch,
    monkeypatch: pytest.MonkeyPatch,
    listeners_ahead: bool,
) -> None:
    """A listener's lead is a test double here (a GPU's pace, or a starving listener)."""
    monkeypatch.setattr(scheduler, "STEP_ASIDE_EVERY_S", 0.0)
    lead = (lambda self: 100.0 if self._first_delivery else 0.0) if listeners_ahead else None
    monkeypatch.setattr(Utterance, "lead", lead or (lambda self: 0.0))
    executor = await engine._started()
    ran_at: list[float] = []
    steps_before = len(watch.step_times)
    long = SpeechParams(max_tokens_per_chunk=50, decoder_steps=2, seed=3)
    stream = engine.speak(enrolled, "A long sentence with time to spare.", long)
    first = await anext(stream)
    cover = executor.run(lambda _: ran_at.append(time.monotonic()), priority=Priority.COVER)
    rest, _ = await asyncio.gather(collect(stream), cover)
    assert not first.ends_piece and rest[-1].ends_piece  # the text went on to its end
    steps = watch.step_times[steps_before:]
    if listeners_ahead:  # one piece of other work ran between two decode steps
        assert steps[0] < ran_at[0] < steps[-1]
    else:  # speech kept the worker until the text was done
        assert ran_at[0] > steps[-1]


async def collect(stream: AsyncIterator[SpeechChunk]) -> list[SpeechChunk]:
    return [chunk async for chunk in stream]


async def test_a_broken_voice_ends_only_its_own_text(
    engine: Engine, enrolled: VoiceProfile, tmp_path: Path
) -> None:
    broken = VoiceProfile.at(tmp_path, enrolled.backend)
    broken.conditionals.write_bytes(b"not a torch file")
    good = asyncio.ensure_future(timed_chunks(engine, enrolled, "I am fine. Thank you.", STREAMED))
    with pytest.raises(Exception) as failure:
        async for _ in engine.speak(broken, "I am broken.", STREAMED):
            pass
    assert not isinstance(failure.value, DecoderBusyError)
    received = await good
    assert sum(chunk.ends_piece for _, chunk in received) == 2


async def test_no_progress_bar_prints_per_sentence(
    engine: Engine, enrolled: VoiceProfile, capfd: pytest.CaptureFixture[str]
) -> None:
    with contextlib.suppress(Exception):
        capfd.readouterr()
    await engine.synthesize(enrolled, "Quiet please.", STREAMED)
    captured = capfd.readouterr()
    assert "Sampling" not in captured.err and "Sampling" not in captured.out
