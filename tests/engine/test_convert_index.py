"""The ``.index``: validation, and retrieval by 1/D²-weighted nearest neighbours (real faiss)."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from engine.convert.errors import RvcIndexError
from engine.convert.index import NEIGHBOURS, FeatureIndex
from engine.convert.synthesizer import RvcVersion
from tests.checkpoints.rvc import write_index


@pytest.fixture(scope="module")
def v2_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_index(tmp_path_factory.mktemp("index") / "voice.index", 768)


def _brute_force(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    squared = ((queries[:, None, :] - vectors[None, :, :]) ** 2).sum(axis=-1)
    nearest = np.argsort(squared, axis=1)[:, :NEIGHBOURS]
    distances = np.take_along_axis(squared, nearest, axis=1)
    weights = 1.0 / distances**2
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("qk,qkd->qd", weights, vectors[nearest])


def test_loads_an_rvc_style_ivf_index(v2_index: Path) -> None:
    index = FeatureIndex.load(v2_index, RvcVersion.V2)
    assert index.dimension == 768
    assert index.version is RvcVersion.V2
    assert index.vectors.shape == (400, 768)


def test_retrieval_weights_neighbours_by_inverse_squared_distance(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((60, 256)).astype(np.float32)
    flat = faiss.IndexFlatL2(256)
    flat.add(vectors)
    faiss.write_index(flat, str(tmp_path / "flat.index"))
    index = FeatureIndex.load(tmp_path / "flat.index", RvcVersion.V1)
    queries = rng.standard_normal((5, 256)).astype(np.float32)
    np.testing.assert_allclose(
        index.retrieve(queries), _brute_force(vectors, queries), rtol=1e-4, atol=1e-5
    )


def test_an_exact_match_dominates_without_dividing_by_zero(v2_index: Path) -> None:
    index = FeatureIndex.load(v2_index)
    query = index.vectors[:3].copy()
    retrieved = index.retrieve(query)
    assert np.all(np.isfinite(retrieved))
    np.testing.assert_allclose(retrieved, query, atol=1e-4)


def test_blend_rate(v2_index: Path) -> None:
    index = FeatureIndex.load(v2_index)
    features = np.random.default_rng(1).standard_normal((4, 768)).astype(np.float32)
    np.testing.assert_array_equal(index.blend(features, 0.0), features)
    retrieved = index.retrieve(features)
    np.testing.assert_allclose(index.blend(features, 1.0), retrieved, rtol=1e-6)
    np.testing.assert_allclose(
        index.blend(features, 0.25), 0.25 * retrieved + 0.75 * features, rtol=1e-5, atol=1e-6
    )


def test_rejects_an_index_for_the_other_version(v2_index: Path) -> None:
    with pytest.raises(RvcIndexError, match=r"made for an RVC v2 model \(768-d\).* v1 \(256-d\)"):
        FeatureIndex.load(v2_index, RvcVersion.V1)


def test_rejects_what_is_not_a_faiss_index(tmp_path: Path) -> None:
    path = tmp_path / "voice.index"
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(RvcIndexError, match=r"voice.index is not a faiss index file"):
        FeatureIndex.load(path)


def test_rejects_an_index_of_other_features(tmp_path: Path) -> None:
    path = tmp_path / "other.index"
    faiss.write_index(faiss.IndexFlatL2(512), str(path))
    with pytest.raises(RvcIndexError, match="holds 512-d vectors"):
        FeatureIndex.load(path)


def test_rejects_an_empty_index(tmp_path: Path) -> None:
    path = tmp_path / "empty.index"
    faiss.write_index(faiss.IndexFlatL2(768), str(path))
    with pytest.raises(RvcIndexError, match="is empty"):
        FeatureIndex.load(path)


def test_a_missing_index(tmp_path: Path) -> None:
    with pytest.raises(RvcIndexError, match="does not exist"):
        FeatureIndex.load(tmp_path / "nothing.index")
