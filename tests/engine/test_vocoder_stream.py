"""Streaming S3Gen (engine.tts.vocoder) on the real Chatterbox S3Gen with random weights.

Random weights make noise-like audio whose neighbouring samples jump anywhere, so a step
measure alone cannot see a seam. The join test therefore also compares the streamed
audio with a single-piece decode of the same tokens and seed (same noise per frame and
sample): a seam shows as a deviation concentrated at the joins, and a stream cut without
vocoder context shows exactly that (the negative control).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch
from chatterbox.models.s3gen import S3Gen
from torch.distributions.uniform import Uniform

from engine.tts.vocoder import S3GenStream, StreamSchedule, vocode_pieces
from engine.tts.vocoder.flow import FlowRow, generate_mel
from engine.tts.vocoder.hift import harmonic_source
from engine.tts.vocoder.noise import PositionalNoise
from tests.engine.vocoder_support import (
    SAMPLES_PER_TOKEN,
    Streamed,
    band_levels_db,
    error_concentration,
    largest_step,
    largest_step_near,
    rms,
    speech_tokens,
    stream_tokens,
    synthetic_reference,
)

STEPS = 2
STEP_RADIUS = 120
"""5 ms either side of a join, for the sample-step measure."""
JOIN_RADIUS = 480
"""20 ms either side of a join, for the deviation measure."""
SAME_AUDIO_TOLERANCE = 1e-5
"""Largest sample difference between a stream vocoded in company and alone (audio peaks
near 0.07 here; measured differences are about 1.3e-7, float rounding)."""
MEL_TOLERANCE = 1e-4
"""Largest difference between Parrot's flow and Chatterbox's on the same noise (mel
values within about ±5; measured 0.0)."""


@pytest.fixture(scope="module")
def s3gen() -> Iterator[Any]:
    torch.manual_seed(1234)  # threads as the run sets them (test.sh: one per worker)
    model = S3Gen().eval()
    yield model


@pytest.fixture(scope="module")
def reference(s3gen: Any) -> dict[str, Any]:
    return synthetic_reference(s3gen, 2.4)


@pytest.fixture(scope="module")
def eighty(s3gen: Any, reference: dict[str, Any]) -> tuple[list[int], Streamed]:
    tokens = speech_tokens(80, seed=3)
    return tokens, stream_tokens(s3gen, reference, tokens, seed=1)


@pytest.fixture(scope="module")
def eighty_at_once(
    s3gen: Any, reference: dict[str, Any], eighty: tuple[list[int], Streamed]
) -> np.ndarray:
    """The same tokens and seed as ``eighty``, decoded as one piece."""
    tokens, _ = eighty
    single = stream_tokens(s3gen, reference, tokens, seed=1, schedule=StreamSchedule(200))
    assert len(single.pieces) == 1
    return single.audio


def test_streamed_audio_joins_like_one_shot(
    s3gen: Any,
    reference: dict[str, Any],
    eighty: tuple[list[int], Streamed],
    eighty_at_once: np.ndarray,
) -> None:
    tokens, streamed = eighty
    audio, single = streamed.audio, eighty_at_once
    assert len(streamed.joins) == 2
    torch.manual_seed(0)
    wav, _ = s3gen.inference(
        speech_tokens=torch.tensor(tokens)[None], ref_dict=reference, n_cfm_timesteps=STEPS
    )
    one_shot = wav[0].numpy()
    # Lengths match exactly: 2 mel frames of 480 samples per token, whatever the cuts.
    assert audio.size == single.size == one_shot.size == SAMPLES_PER_TOKEN * len(tokens)
    assert largest_step_near(audio, streamed.joins, STEP_RADIUS) <= 1.5 * largest_step(one_shot)
    # The pieces depart from one piece by the changed context only (measured 2.3 % RMS,
    # spread evenly: concentration 1.0 at the joins).
    assert rms(audio - single) < 0.1 * rms(single)
    assert error_concentration(audio, single, streamed.joins, JOIN_RADIUS) < 2.0
    # Same loudness and spectral balance as Chatterbox's own one-shot decoding.
    assert abs(20 * math.log10(rms(audio) / rms(one_shot))) < 1.0
    edges = [0, 250, 500, 1000, 2000, 4000, 8000, 12000]
    for ours, theirs in zip(
        band_levels_db(audio, 24_000, edges), band_levels_db(one_shot, 24_000, edges), strict=True
    ):
        assert abs(ours - theirs) < 2.0  # measured within 0.2 dB


def test_joins_without_vocoder_context_are_detected(
    s3gen: Any,
    reference: dict[str, Any],
    eighty: tuple[list[int], Streamed],
    eighty_at_once: np.ndarray,
) -> None:
    """The negative control: cut the vocoder's windows bare and every join shows
    (measured concentration 5.7)."""
    tokens, _ = eighty
    bare = StreamSchedule(vocoder_context_frames=0, overlap_tokens=0, context_tokens=0)
    naive = stream_tokens(s3gen, reference, tokens, seed=1, schedule=bare)
    assert error_concentration(naive.audio, eighty_at_once, naive.joins, JOIN_RADIUS) > 3.0


def test_pieces_follow_the_schedule(eighty: tuple[list[int], Streamed]) -> None:
    _, streamed = eighty
    assert streamed.calls == [(25, False), (75, False), (80, True)]
    assert streamed.skipped == [*range(1, 25), *range(26, 75), *range(76, 80)]
    first = streamed.pieces[0]
    # 25 tokens = 50 frames, less 6 look-ahead, 4 overlap and 8 vocoder-context frames.
    assert first.size == 32 * 480
    assert np.all(first[:480] == 0)  # Chatterbox's trim_fade: 20 ms of silence, then a fade
    assert 0 < np.abs(first[480:960]).max() < np.abs(first[960:]).max()
    assert all(piece.size for piece in streamed.pieces)
    assert streamed.stream.done
    assert not streamed.stream.wants_piece(80, True)
    with pytest.raises(ValueError, match="final piece"):
        vocode_pieces(streamed.stream.s3gen, [(streamed.stream, [1] * 80, True)])


def test_wants_piece(s3gen: Any, reference: dict[str, Any]) -> None:
    stream = S3GenStream(
        s3gen, reference, steps=STEPS, seed=0, schedule=StreamSchedule(first_tokens=30)
    )
    assert not stream.wants_piece(29, False)
    assert stream.wants_piece(30, False)
    assert stream.wants_piece(0, True)
    assert not stream.done
    # A first piece needs 10 tokens to have audio: 3 look-ahead, 2 overlap and 4 tokens'
    # worth of vocoder context come off it, so an earlier first piece waits for them.
    early = S3GenStream(s3gen, reference, steps=STEPS, seed=0, schedule=StreamSchedule(5))
    assert not early.wants_piece(9, False)
    assert early.wants_piece(10, False)
    (audio,) = vocode_pieces(s3gen, [(early, speech_tokens(10, seed=1), False)])
    assert audio.size == 2 * 480


def test_same_seed_same_audio(s3gen: Any, reference: dict[str, Any]) -> None:
    tokens = speech_tokens(30, seed=5)  # two pieces; one flow step is enough here
    first = stream_tokens(s3gen, reference, tokens, seed=11, steps=1).audio
    again = stream_tokens(s3gen, reference, tokens, seed=11, steps=1).audio
    other = stream_tokens(s3gen, reference, tokens, seed=12, steps=1).audio
    assert np.array_equal(first, again)
    assert np.abs(first - other).max() > 1e-3


def test_batched_pieces_match_each_stream_alone(s3gen: Any, reference: dict[str, Any]) -> None:
    """Three streams joining at different times, different lengths, references, seeds and
    step counts: at token 60 one call holds a last piece, a first piece and a whole
    utterance."""
    short_reference = synthetic_reference(s3gen, 1.6, seed=1)
    plans = [  # (start, tokens, reference, seed, steps)
        (0, speech_tokens(60, seed=21), reference, 1, 2),
        (35, speech_tokens(30, seed=22), short_reference, 2, 2),
        (45, speech_tokens(15, seed=23), reference, 3, 1),
    ]

    def run(batched: bool) -> tuple[list[np.ndarray], list[int]]:
        streams = [S3GenStream(s3gen, r, steps=k, seed=s) for _, _, r, s, k in plans]
        audio: list[list[np.ndarray]] = [[] for _ in plans]
        sizes = []
        for clock in range(1, 70):
            jobs, owners = [], []
            for index, (start, tokens, *_) in enumerate(plans):
                count = min(clock - start, len(tokens))
                finished = count == len(tokens)
                if count > 0 and streams[index].wants_piece(count, finished):
                    jobs.append((streams[index], tokens[:count], finished))
                    owners.append(index)
            if not jobs:
                continue
            sizes.append(len(jobs))
            for owner, piece in zip(
                owners, vocode_pieces(s3gen, jobs, batched=batched), strict=True
            ):
                audio[owner].append(piece)
        assert all(stream.done for stream in streams)
        return [np.concatenate(pieces) for pieces in audio], sizes

    together, sizes = run(batched=True)
    alone, _ = run(batched=False)
    assert max(sizes) == 3
    for (_, tokens, *_), ours, theirs in zip(plans, together, alone, strict=True):
        assert ours.size == theirs.size == SAMPLES_PER_TOKEN * len(tokens)
        assert np.abs(ours - theirs).max() <= SAME_AUDIO_TOLERANCE


def test_short_and_empty_endings(s3gen: Any, reference: dict[str, Any]) -> None:
    empty = S3GenStream(s3gen, reference, steps=STEPS, seed=0)
    (silence,) = vocode_pieces(s3gen, [(empty, [], True)])
    assert silence.size == 2400 and not silence.any() and empty.done
    for count in (1, 2):
        stream = S3GenStream(s3gen, reference, steps=STEPS, seed=0)
        assert vocode_pieces(s3gen, [(stream, [5] * count, False)])[0].size == 0  # nothing due
        (audio,) = vocode_pieces(s3gen, [(stream, [5] * count, True)])
        assert audio.size == SAMPLES_PER_TOKEN * count and np.isfinite(audio).all()
    tokens = speech_tokens(25, seed=9)
    stream = S3GenStream(s3gen, reference, steps=STEPS, seed=0)
    first = vocode_pieces(s3gen, [(stream, tokens, False)])[0]
    rest = vocode_pieces(s3gen, [(stream, tokens, True)])[0]  # finished, no new tokens
    assert first.size and rest.size and first.size + rest.size == SAMPLES_PER_TOKEN * 25


def test_bad_calls_change_nothing(s3gen: Any, reference: dict[str, Any]) -> None:
    stream = S3GenStream(s3gen, reference, steps=STEPS, seed=0)
    other = S3GenStream(s3gen, reference, steps=STEPS, seed=0)
    with pytest.raises(ValueError, match="speech tokens"):
        vocode_pieces(s3gen, [(other, [1, 2], False), (stream, [1, 6561], False)])
    with pytest.raises(ValueError, match="only once"):
        vocode_pieces(s3gen, [(stream, [1], False), (stream, [1], False)])
    with pytest.raises(ValueError, match="S3Gen given"):
        vocode_pieces(object(), [(stream, [1], False)])
    assert vocode_pieces(s3gen, [(other, [1, 2, 3], False)])[0].size == 0
    with pytest.raises(ValueError, match="only 2"):
        vocode_pieces(s3gen, [(other, [1, 2], False)])
    with pytest.raises(ValueError):
        StreamSchedule(piece_tokens=0)


@pytest.fixture(scope="module")
def meanflow_s3gen(s3gen: Any) -> Any:
    """Turbo's S3Gen (mean-flow decoder); ``s3gen`` first, for its thread setting."""
    torch.manual_seed(4321)
    return S3Gen(meanflow=True).eval()


@pytest.mark.parametrize("variant", ["s3gen", "meanflow_s3gen"])
def test_flow_matches_chatterbox_on_the_same_noise(
    variant: str, request: pytest.FixtureRequest
) -> None:
    model = request.getfixturevalue(variant)
    generator = torch.Generator().manual_seed(4)
    prompt, count = 20, 30
    reference: dict[str, Any] = {
        "prompt_token": torch.randint(0, 6561, (1, prompt), generator=generator),
        "prompt_token_len": torch.tensor([prompt]),
        "prompt_feat": torch.randn(1, 2 * prompt, 80, generator=generator) - 5,
        "prompt_feat_len": None,
        "embedding": torch.randn(1, 192, generator=generator),
    }
    tokens = torch.randint(0, 6561, (1, count), generator=generator)
    with torch.inference_mode():
        torch.manual_seed(5)
        noise = torch.randn(1, 80, 2 * (prompt + count))
        torch.manual_seed(5)  # Chatterbox's decoder draws the same start noise
        extra = {"noised_mels": noise[..., 2 * prompt :]} if model.meanflow else {}
        theirs, _ = model.flow.inference(
            token=tokens,
            token_len=torch.tensor([count]),
            finalize=True,
            n_timesteps=STEPS,
            meanflow=model.meanflow,
            **extra,
            **reference,
        )
        row = FlowRow(
            prompt_tokens=reference["prompt_token"][0],
            prompt_mel=reference["prompt_feat"][0].T,
            tokens=tokens[0],
            frames=2 * count,
            embedding=reference["embedding"][0],
            noise=noise[0],
        )
        (ours,) = generate_mel(model, [row], STEPS)
    assert (ours - theirs[0]).abs().max() <= MEL_TOLERANCE


def test_meanflow_stream(meanflow_s3gen: Any) -> None:
    reference = synthetic_reference(meanflow_s3gen, 2.4)
    tokens = speech_tokens(40, seed=6)
    streamed = stream_tokens(meanflow_s3gen, reference, tokens, seed=3, steps=None)
    again = stream_tokens(meanflow_s3gen, reference, tokens, seed=3, steps=None)
    assert streamed.stream.steps == 2 and len(streamed.pieces) == 2
    audio = streamed.audio
    assert np.array_equal(audio, again.audio)
    assert audio.size == SAMPLES_PER_TOKEN * len(tokens) and np.isfinite(audio).all()
    wav, _ = meanflow_s3gen.inference(speech_tokens=torch.tensor(tokens)[None], ref_dict=reference)
    assert wav.shape[-1] == audio.size
    assert abs(20 * math.log10(rms(audio) / rms(wav[0].numpy()))) < 2.0


def test_source_matches_chatterbox(s3gen: Any) -> None:
    """Parrot's excitation equals Chatterbox's SourceModuleHnNSF given the same draws."""
    module = s3gen.mel2wav.m_source
    samples = 12_000
    pitch = torch.linspace(120, 220, samples)
    pitch[4000:5000] = 0  # an unvoiced stretch: noise only
    torch.manual_seed(8)
    theirs, _, _ = module(pitch[None, :, None])
    torch.manual_seed(8)  # SineGen draws the overtones' phases, then the noise
    offsets = Uniform(-math.pi, math.pi).sample((1, 9, 1))[..., 0].double()
    offsets[:, 0] = 0
    noise = torch.randn(1, 9, samples)
    start, end = torch.tensor([0]), torch.tensor([samples])
    with torch.inference_mode():
        zero = torch.zeros(1, 9, dtype=torch.float64)
        ours, _ = harmonic_source(module, pitch[None], noise, zero, offsets, start, end)
    assert (ours[0, 0] - theirs[0, :, 0]).abs().max() < 1e-3


def test_source_phase_carries_across_windows(s3gen: Any) -> None:
    module = s3gen.mel2wav.m_source
    samples, split, context = 9600, 4000, 960
    pitch = torch.linspace(150, 250, samples)[None]
    noise = torch.randn(1, 9, samples, generator=torch.Generator().manual_seed(1))
    offsets = torch.rand(1, 9, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    zero = torch.zeros(1, 9, dtype=torch.float64)

    def at(value: int) -> torch.Tensor:
        return torch.tensor([value])

    with torch.inference_mode():
        whole, _ = harmonic_source(module, pitch, noise, zero, offsets, at(0), at(samples))
        head = slice(0, split + context)
        _, carried = harmonic_source(
            module, pitch[:, head], noise[..., head], zero, offsets, at(0), at(split)
        )
        tail = slice(split - context, samples)
        later, _ = harmonic_source(
            module, pitch[:, tail], noise[..., tail], carried, offsets, at(context), at(context)
        )
    assert (later[0, 0] - whole[0, 0, tail]).abs().max() < 1e-5


def test_noise_depends_on_position_only() -> None:
    whole = PositionalNoise(seed=5, domain=1, rows=3, block=7).normal(0, 40)
    assert torch.equal(PositionalNoise(5, 1, 3, 7).normal(12, 31), whole[:, 12:31])
    assert torch.equal(PositionalNoise(5, 1, 3, 7).normal(30, 40), whole[:, 30:])
    assert not torch.equal(PositionalNoise(6, 1, 3, 7).normal(0, 40), whole)
    assert not torch.equal(PositionalNoise(5, 2, 3, 7).normal(0, 40), whole)
