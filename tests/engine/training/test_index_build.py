"""The voice's feature index from a training set: RVC's layout, read by Parrot's inference."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from engine.config import EngineConfig
from engine.convert.index import FeatureIndex
from engine.convert.runtime import ConversionModels
from engine.convert.synthesizer import RvcVersion
from engine.training import index_build
from engine.training.index_build import build_index, list_count, training_vectors
from engine.training.training_set import FEATURE_DIM, HOP, Segment, TrainingSet, TrainingSetWriter
from tests.checkpoints.rvc import small_rvc_voice


def synthetic_set(folder: Path, frames: list[int], seed: int = 5) -> TrainingSet:
    """Segments whose features repeat each random 50 frames/s vector twice, as prepared."""
    rng = np.random.default_rng(seed)
    writer = TrainingSetWriter(folder, f"synthetic-{seed}")
    for count in frames:
        encoded = rng.standard_normal(((count + 1) // 2, FEATURE_DIM)).astype(np.float32)
        writer.add(
            Segment(
                audio=np.zeros(count * HOP, dtype=np.float32),
                features=np.repeat(encoded, 2, axis=0)[:count],
                pitch_hz=np.zeros(count, dtype=np.float32),
                coarse=np.ones(count, dtype=np.int64),
            )
        )
    return writer.finish()


def test_list_count_follows_rvc_above_the_flat_size() -> None:
    assert list_count(1) == list_count(index_build.FLAT_UP_TO) == 0
    assert list_count(30_000) == 30_000 // 39  # 10 minutes of speech
    assert list_count(200_000) == min(int(16 * np.sqrt(200_000)), 200_000 // 39)
    assert list_count(10_000_000) == int(16 * np.sqrt(10_000_000))


def test_the_index_holds_each_content_frame_once(tmp_path: Path) -> None:
    training_set = synthetic_set(tmp_path / "set", [101, 60])
    vectors = training_vectors(training_set)
    assert vectors.shape == (51 + 30, FEATURE_DIM)
    np.testing.assert_array_equal(vectors[:51], training_set.segment(0).features[::2])


def test_a_small_set_gets_an_exact_flat_index_that_inference_reads(tmp_path: Path) -> None:
    training_set = synthetic_set(tmp_path / "set", [100, 80, 41])
    destination = build_index(training_set, tmp_path / "voice" / "added.index")
    assert sorted(path.name for path in destination.parent.iterdir()) == ["added.index"]
    index = FeatureIndex.load(destination, RvcVersion.V2)
    assert isinstance(index.index, faiss.IndexFlatL2)
    vectors = training_vectors(training_set)
    assert index.index.ntotal == len(vectors)
    np.testing.assert_allclose(index.retrieve(vectors[:20]), vectors[:20], atol=1e-5)


def test_a_large_set_gets_ivf_flat_searched_one_list_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_build, "FLAT_UP_TO", 100)
    training_set = synthetic_set(tmp_path / "set", [400] * 10)
    destination = build_index(training_set, tmp_path / "added.index")
    index = FeatureIndex.load(destination, RvcVersion.V2)
    ivf = faiss.extract_index_ivf(index.index)
    assert ivf.nlist == 2000 // 39 and ivf.nprobe == 1
    assert index.index.ntotal == 2000
    vectors = training_vectors(training_set)
    np.testing.assert_allclose(index.retrieve(vectors[:20]), vectors[:20], atol=1e-5)


def test_very_large_sets_are_summarised_by_kmeans_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_build, "KMEANS_ABOVE", 500)
    monkeypatch.setattr(index_build, "KMEANS_CENTROIDS", 64)
    training_set = synthetic_set(tmp_path / "set", [400] * 3)
    index = FeatureIndex.load(build_index(training_set, tmp_path / "added.index"))
    assert index.index.ntotal == 64


def test_the_voice_model_and_its_new_index_load_together_for_conversion(tmp_path: Path) -> None:
    training_set = synthetic_set(tmp_path / "set", [120])
    destination = tmp_path / "added.index"
    destination.write_bytes(b"an older index, replaced whole")
    build_index(training_set, destination)
    models = ConversionModels(EngineConfig(data_dir=tmp_path), "cpu")
    model, index = models.voice(small_rvc_voice("v2", 40_000), destination)
    assert index is not None and index.version is RvcVersion.V2 is model.version
    features = training_vectors(training_set)[:5] + 0.01
    blended = index.blend(features, 0.75)
    assert blended.shape == features.shape and not np.allclose(blended, features)
