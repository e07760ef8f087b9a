"""The voice's feature index (RVC's ``.index``), built from its training features.

Conversion pulls each input frame toward its nearest training frames (see
:mod:`engine.convert.index`). The index holds the content encoder's own frames (50 a
second; the training set repeats each one twice), shuffled. Like RVC's training: more
than 200 000 frames are first summarised by k-means into 10 000 centroids, and the
index is IVF-Flat with min(16·√n, n/39) lists, searched one list at a time. Small sets
get an exact flat index instead: searching it all costs little, and a few coarse lists
would miss neighbours.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine.convert.info import RvcVersion
from engine.convert.pipeline import FEATURE_UPSAMPLE
from engine.files import atomic_write_bytes
from engine.training.training_set import TrainingSet

KMEANS_ABOVE = 200_000
KMEANS_CENTROIDS = 10_000
KMEANS_ITERATIONS = 20
FLAT_UP_TO = 10_000
"""Sets of at most this many frames (about 200 s of speech) get a flat index."""
VECTORS_PER_LIST = 39
"""faiss's own floor for training one IVF list's centroid."""
LISTS_PER_ROOT = 16
ADD_BATCH = 8192
SEED = 1234


def training_vectors(training_set: TrainingSet) -> np.ndarray:
    """(n, 768) float32: every content frame of the set once, in set order."""
    parts = [segment.features[::FEATURE_UPSAMPLE] for segment in training_set.segments()]
    if not parts:
        raise ValueError("the training set has no segments")
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def list_count(vectors: int) -> int:
    """IVF lists for ``vectors`` frames; 0 means a flat index."""
    if vectors <= FLAT_UP_TO:
        return 0
    return max(1, min(int(LISTS_PER_ROOT * np.sqrt(vectors)), vectors // VECTORS_PER_LIST))


def _summarise(vectors: np.ndarray) -> np.ndarray:
    import faiss  # deferred: a large native library

    kmeans = faiss.Kmeans(
        vectors.shape[1], KMEANS_CENTROIDS, niter=KMEANS_ITERATIONS, seed=SEED, verbose=False
    )
    kmeans.train(vectors)
    centroids: np.ndarray = np.ascontiguousarray(kmeans.centroids, dtype=np.float32)
    return centroids


def make_index(vectors: np.ndarray) -> Any:
    """A faiss index over ``vectors`` (already shuffled and summarised)."""
    import faiss  # deferred: a large native library

    dimension = vectors.shape[1]
    lists = list_count(len(vectors))
    index: Any
    if lists == 0:
        index = faiss.IndexFlatL2(dimension)
    else:
        index = faiss.index_factory(dimension, f"IVF{lists},Flat")
        faiss.extract_index_ivf(index).nprobe = 1
        index.train(vectors)
    for start in range(0, len(vectors), ADD_BATCH):
        index.add(vectors[start : start + ADD_BATCH])
    return index


def build_index(training_set: TrainingSet, destination: Path) -> Path:
    """Write the index of ``training_set``'s features to ``destination`` atomically."""
    import faiss  # deferred: a large native library

    vectors = training_vectors(training_set)
    if vectors.shape[1] != RvcVersion.V2.content_dim:
        raise ValueError(f"expected {RvcVersion.V2.content_dim}-d features, got {vectors.shape}")
    vectors = vectors[np.random.default_rng(SEED).permutation(len(vectors))]
    if len(vectors) > KMEANS_ABOVE:
        vectors = _summarise(vectors)
    index = make_index(vectors)
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(destination, faiss.serialize_index(index).tobytes())
    return destination
