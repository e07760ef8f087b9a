"""Preparing a training set with the real content encoder and RMVPE (random weights)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.audio import Audio
from engine.convert.features import ContentFeatures
from engine.convert.index import FeatureIndex
from engine.convert.params import ConversionParams
from engine.convert.pipeline import convert_voice
from engine.convert.pitch.contour import coarse_pitch
from engine.convert.pitch.rmvpe import RmvpeExtractor
from engine.convert.synthesizer import RvcVersion
from engine.convert.voice_model import load_rvc_model
from engine.executor import JobCancelledError
from engine.training.errors import NotEnoughAudioError
from engine.training.index_build import build_index, training_vectors
from engine.training.prepare import preparation_hash, prepare_training_set
from engine.training.preprocess import SliceSettings, preprocess_file
from engine.training.training_set import HOP, TrainingSet
from tests.checkpoints.rvc import content_encoder, rmvpe_weights, small_rvc_voice
from tests.engine.speech import espeak

TEXTS = ("Hello there, my friend.", "Parrot repeats every word.")


@pytest.fixture(scope="module")
def models() -> Iterator[tuple[ContentFeatures, RmvpeExtractor]]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # shared 2-core machines: one thread is faster under load
    try:
        yield (
            ContentFeatures.load(content_encoder(), "cpu"),
            RmvpeExtractor.load(rmvpe_weights(), "cpu"),
        )
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("recordings")
    return [espeak(folder / f"{number}.wav", text) for number, text in enumerate(TEXTS)]


@pytest.fixture(scope="module")
def prepared(
    models: tuple[ContentFeatures, RmvpeExtractor],
    sources: list[Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> TrainingSet:
    content, pitch = models
    folder = tmp_path_factory.mktemp("prepared") / "set"
    return prepare_training_set(sources, folder, content=content, pitch=pitch)


def test_segments_hold_the_inference_features_and_pitch_of_each_piece(
    prepared: TrainingSet, models: tuple[ContentFeatures, RmvpeExtractor], sources: list[Path]
) -> None:
    content, pitch = models
    assert len(prepared) >= len(sources)
    assert TrainingSet.load(prepared.folder) == prepared
    piece = preprocess_file(sources[0], SliceSettings())[0]
    segment = prepared.segment(0)
    segment.check()
    encoded = content.extract(piece.audio_16k, RvcVersion.V2).numpy()
    assert segment.frames == min(piece.frames, 2 * len(encoded))
    np.testing.assert_allclose(segment.features[0::2], encoded[: (segment.frames + 1) // 2])
    np.testing.assert_array_equal(segment.features[0::2], segment.features[1::2])
    expected_pitch = pitch.extract(piece.audio_16k, piece.frames)[: segment.frames]
    np.testing.assert_array_equal(segment.pitch_hz, expected_pitch)
    np.testing.assert_array_equal(segment.coarse, coarse_pitch(expected_pitch))
    np.testing.assert_array_equal(segment.audio, piece.audio[: segment.frames * HOP])


def test_conversion_uses_the_index_built_from_the_set(
    prepared: TrainingSet, models: tuple[ContentFeatures, RmvpeExtractor], tmp_path: Path
) -> None:
    content, pitch = models
    index = FeatureIndex.load(build_index(prepared, tmp_path / "added.index"), RvcVersion.V2)
    assert index.index.ntotal == len(training_vectors(prepared))
    segment = prepared.segment(0)
    audio = Audio(segment.audio[:40_000], 40_000)
    model = load_rvc_model(small_rvc_voice("v2", 40_000))
    converted = convert_voice(
        audio,
        model,
        params=ConversionParams(index_rate=1.0, seed=1),
        features=content,
        pitch=pitch,
        index=index,
    )
    assert len(converted) == 40_000 and np.isfinite(converted.samples).all()


def test_preparing_the_same_recordings_again_does_no_work(
    prepared: TrainingSet, models: tuple[ContentFeatures, RmvpeExtractor], sources: list[Path]
) -> None:
    content, pitch = models
    stamps = [path.stat().st_mtime_ns for path in prepared.folder.rglob("*")]

    def no_work() -> None:
        raise AssertionError("a cached set was prepared again")

    again = prepare_training_set(
        sources, prepared.folder, content=content, pitch=pitch, should_stop=no_work
    )
    assert again == prepared
    assert [path.stat().st_mtime_ns for path in prepared.folder.rglob("*")] == stamps


def test_the_cache_key_covers_the_bytes_and_the_settings(
    models: tuple[ContentFeatures, RmvpeExtractor], sources: list[Path], tmp_path: Path
) -> None:
    content, pitch = models
    key = preparation_hash(sources, content=content, pitch=pitch)
    assert key == preparation_hash(list(sources), content=content, pitch=pitch)
    assert key != preparation_hash(sources[::-1], content=content, pitch=pitch)
    assert key != preparation_hash(
        sources, content=content, pitch=pitch, slicing=SliceSettings(piece_s=3.0)
    )
    copy = tmp_path / "copy.wav"
    data = bytearray(sources[0].read_bytes())
    data[-1] ^= 1
    copy.write_bytes(bytes(data))
    assert key != preparation_hash([copy, sources[1]], content=content, pitch=pitch)


def test_cancelling_between_segments_leaves_no_set(
    models: tuple[ContentFeatures, RmvpeExtractor], sources: list[Path], tmp_path: Path
) -> None:
    content, pitch = models
    calls = []

    def stop_at_the_second_piece() -> None:
        calls.append(1)
        if len(calls) == 3:  # before recording 1, before its first piece, then after it
            raise JobCancelledError("cancelled")

    folder = tmp_path / "set"
    with pytest.raises(JobCancelledError):
        prepare_training_set(
            sources, folder, content=content, pitch=pitch, should_stop=stop_at_the_second_piece
        )
    assert len(calls) == 3
    assert TrainingSet.load(folder) is None
    assert not list(folder.rglob("*.npz"))


def test_recordings_without_speech_are_refused_and_a_stale_set_is_replaced(
    models: tuple[ContentFeatures, RmvpeExtractor], prepared: TrainingSet, tmp_path: Path
) -> None:
    import soundfile

    content, pitch = models
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(48_000, dtype=np.float32), 16_000)
    folder = tmp_path / "set"
    (folder / "segments").mkdir(parents=True)
    (folder / "segments" / "00007.npz").write_bytes(b"left over")
    (folder / "manifest.json").write_text(json.dumps({"version": 1, "frames": [1], "source": "x"}))
    with pytest.raises(NotEnoughAudioError) as caught:
        prepare_training_set([silent], folder, content=content, pitch=pitch)
    assert "0 s" in str(caught.value)
    assert TrainingSet.load(folder) is None and not (folder / "segments").exists()
