"""Conversion end to end: a full-size random v2 model on real speech, and the pipeline's rules."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from engine.audio import Audio
from engine.config import EngineConfig
from engine.convert import (
    ConversionInputError,
    ConversionParams,
    InvalidConversionParamsError,
    PitchMethod,
    RvcIndexError,
)
from engine.convert.features import ContentFeatures
from engine.convert.index import FeatureIndex
from engine.convert.pieces import Chunking, plan_pieces
from engine.convert.pipeline import convert_voice, protect_unvoiced
from engine.convert.pitch.fcpe import FcpeExtractor
from engine.convert.runtime import ConversionModels
from engine.convert.voice_model import load_rvc_model
from engine.executor import CancelToken, JobCancelledError
from tests.checkpoints.rvc import (
    models_dir,
    rvc_voice,
    small_rvc_voice,
    write_index,
)
from tests.engine.convert_support import one_torch_thread, tone
from tests.engine.speech import espeak

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)
FAST = Chunking(context_s=0.25)
"""Less context than RVC's 1 s: the same code path at a third of the cost."""


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Audio:
    """About 1.2 s of real speech at 22.05 kHz (espeak's rate: conversion resamples)."""
    wav = espeak(tmp_path_factory.mktemp("speech") / "hello.wav", "Hello there, parrot.")
    samples, rate = soundfile.read(wav, dtype="float32")
    assert rate == 22_050
    return Audio(samples[: round(1.2 * rate)], rate)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> ConversionModels:
    root = tmp_path_factory.mktemp("rvc")
    config = EngineConfig(data_dir=root / "data", models_dir=models_dir(root / "models"))
    return ConversionModels(config, "cpu")


@pytest.fixture(scope="module")
def features(runtime: ConversionModels) -> ContentFeatures:
    return runtime.content_features()


@pytest.fixture(scope="module")
def fcpe() -> FcpeExtractor:
    return FcpeExtractor.load("cpu")


def test_full_size_v2_voice_with_rmvpe_and_index(
    runtime: ConversionModels, speech: Audio, tmp_path: Path
) -> None:
    index = write_index(tmp_path / "voice.index", 768)
    fractions: list[float] = []
    started = time.perf_counter()
    result = runtime.convert(
        speech,
        rvc_voice("v2", 40_000, True),
        index_path=index,
        params=ConversionParams(pitch_shift=3, seed=7),
        progress=fractions.append,
    )
    elapsed = time.perf_counter() - started
    assert result.sample_rate == 40_000
    assert len(result) == round(len(speech) * 40_000 / 22_050)
    assert np.all(np.isfinite(result.samples))
    assert 0.0 < np.max(np.abs(result.samples)) <= 0.99
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert runtime.loaded == ["content encoder", "pitch: rmvpe", "voice: voice.pth"]
    print(f"full-size v2 conversion of {speech.duration:.1f} s took {elapsed:.1f} s")


def test_same_seed_same_audio_other_seed_other_audio(
    features: ContentFeatures, fcpe: FcpeExtractor, speech: Audio
) -> None:
    model = load_rvc_model(small_rvc_voice("v2", 48_000, True))
    params = ConversionParams(pitch_method=PitchMethod.FCPE, seed=11)

    def run(p: ConversionParams) -> np.ndarray:
        return convert_voice(
            speech, model, params=p, features=features, pitch=fcpe, chunking=FAST
        ).samples

    first, again = run(params), run(params)
    np.testing.assert_array_equal(first, again)
    other = run(ConversionParams(pitch_method=PitchMethod.FCPE, seed=12))
    assert not np.array_equal(first, other)


def test_v1_voice_without_pitch(features: ContentFeatures, speech: Audio) -> None:
    model = load_rvc_model(small_rvc_voice("v1", 32_000, False))
    result = convert_voice(
        speech, model, params=ConversionParams(seed=1), features=features, chunking=FAST
    )
    assert result.sample_rate == 32_000
    assert len(result) == round(len(speech) * 32_000 / 22_050)
    assert np.max(np.abs(result.samples)) > 0


def test_long_inputs_are_converted_in_pieces(
    features: ContentFeatures, fcpe: FcpeExtractor
) -> None:
    model = load_rvc_model(small_rvc_voice("v2", 40_000, True))
    audio = Audio(tone(180.0, 1.6), 16_000)
    chunking = Chunking(context_s=0.2, search_s=0.1, piece_s=0.5, single_max_s=0.6)
    fractions: list[float] = []
    result = convert_voice(
        audio,
        model,
        params=ConversionParams(pitch_method=PitchMethod.FCPE, seed=3),
        features=features,
        pitch=fcpe,
        progress=fractions.append,
        chunking=chunking,
    )
    assert len(result) == round(1.6 * 40_000)
    assert len(fractions) == 3 * 4  # pitch, features, synthesis per piece; 4 pieces
    assert fractions == sorted(fractions)


def test_cancelling_stops_between_stages(features: ContentFeatures, fcpe: FcpeExtractor) -> None:
    model = load_rvc_model(small_rvc_voice("v2", 40_000, True))
    token = CancelToken()
    seen: list[float] = []

    def cancel_after_first_stage(fraction: float) -> None:
        seen.append(fraction)
        token.cancel()

    with pytest.raises(JobCancelledError):
        convert_voice(
            Audio(tone(180.0, 0.5), 16_000),
            model,
            params=ConversionParams(pitch_method=PitchMethod.FCPE),
            features=features,
            pitch=fcpe,
            token=token,
            progress=cancel_after_first_stage,
            chunking=FAST,
        )
    assert len(seen) == 1


def test_pieces_are_cut_at_the_quietest_moment() -> None:
    rate = 16_000
    samples = tone(200.0, 100.0)
    quiet = [35 * rate, 80 * rate + 123]
    for start in quiet:
        samples[start : start + 800] = 0.0
    pieces = plan_pieces(samples, Chunking())
    assert pieces[0][0] == 0 and pieces[-1][1] == len(samples)
    cuts = [end for _, end in pieces[:-1]]
    assert len(cuts) == 2
    for cut, start in zip(cuts, quiet, strict=True):
        assert start - 160 <= cut <= start + 800
        assert cut % 160 == 0
    assert plan_pieces(samples[: 40 * rate], Chunking()) == [(0, 40 * rate)]


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        (np.zeros(0, dtype=np.float32), "is empty"),
        (np.zeros(800, dtype=np.float32), "lasts 0.05 s; it needs at least 0.1 s"),
        (np.full(4000, np.nan, dtype=np.float32), "NaN or infinite"),
    ],
)
def test_unusable_audio(
    samples: np.ndarray, message: str, features: ContentFeatures, fcpe: FcpeExtractor
) -> None:
    model = load_rvc_model(small_rvc_voice("v2", 40_000, True))
    params = ConversionParams(pitch_method=PitchMethod.FCPE)
    with pytest.raises(ConversionInputError, match=message):
        convert_voice(Audio(samples, 16_000), model, params=params, features=features, pitch=fcpe)


def test_wiring_mistakes_are_named(
    features: ContentFeatures, fcpe: FcpeExtractor, tmp_path: Path
) -> None:
    model = load_rvc_model(small_rvc_voice("v2", 40_000, True))
    audio = Audio(tone(180.0, 0.3), 16_000)
    params = ConversionParams(pitch_method=PitchMethod.FCPE)
    with pytest.raises(ValueError, match="is pitch-guided: pass a pitch extractor"):
        convert_voice(audio, model, params=params, features=features)
    with pytest.raises(ValueError, match="params ask for rmvpe but the extractor is fcpe"):
        convert_voice(audio, model, params=ConversionParams(), features=features, pitch=fcpe)
    with pytest.raises(InvalidConversionParamsError, match=r"speaker_id 1 does not exist"):
        convert_voice(
            audio,
            model,
            params=ConversionParams(pitch_method=PitchMethod.FCPE, speaker_id=1),
            features=features,
            pitch=fcpe,
        )
    index = FeatureIndex.load(write_index(tmp_path / "v1.index", 256, count=64))
    with pytest.raises(RvcIndexError, match=r"holds 256-d features but voice.pth is an RVC v2"):
        convert_voice(audio, model, params=params, features=features, pitch=fcpe, index=index)


def test_runtime_reloads_a_replaced_voice_and_keeps_a_few(
    runtime: ConversionModels, tmp_path: Path
) -> None:
    first = tmp_path / "a.pth"
    first.write_bytes(small_rvc_voice("v2", 40_000, True).read_bytes())
    model, index = runtime.voice(first)
    assert index is None
    assert runtime.voice(first)[0] is model
    first.write_bytes(small_rvc_voice("v1", 40_000, True).read_bytes())
    replaced, _ = runtime.voice(first)
    assert replaced is not model and replaced.version.value == "v1"
    for name in ("b", "c"):
        copy = tmp_path / f"{name}.pth"
        copy.write_bytes(small_rvc_voice("v2", 32_000, False).read_bytes())
        runtime.voice(copy)
    voices = [name for name in runtime.loaded if name.startswith("voice:")]
    assert voices == ["voice: b.pth", "voice: c.pth"]


def test_protection_keeps_unvoiced_frames_near_the_input() -> None:
    retrieved, own = torch.ones(3, 2), torch.zeros(3, 2)
    f0 = np.array([220.0, 0.0, 0.0])
    protected = protect_unvoiced(retrieved, own, f0, 0.33)
    torch.testing.assert_close(protected, torch.tensor([[1.0, 1.0], [0.33, 0.33], [0.33, 0.33]]))
    torch.testing.assert_close(protect_unvoiced(retrieved, own, f0, 0.0)[1:], own[1:])
