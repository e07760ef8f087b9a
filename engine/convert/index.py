"""Feature retrieval: pull the input's content features toward the voice's training features.

RVC's ``.index`` is a faiss index over the content features of the voice's training
audio. For each input frame the 8 nearest training frames are averaged with weights
1/D² (D = faiss's squared L2 distance), normalised to sum to one, and blended in by
``index_rate``. This is what removes most of the input speaker's timbre.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine.convert.errors import RvcIndexError
from engine.convert.synthesizer import RvcVersion

NEIGHBOURS = 8
_DISTANCE_FLOOR = 1e-12
"""Stands in for an exact match's zero distance (it would make its weight infinite)."""


class FeatureIndex:
    def __init__(self, index: Any, vectors: np.ndarray, path: Path | None = None) -> None:
        self.index = index
        self.vectors = vectors
        self.path = path

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def version(self) -> RvcVersion:
        return RvcVersion.V1 if self.dimension == RvcVersion.V1.content_dim else RvcVersion.V2

    @classmethod
    def load(cls, path: Path, version: RvcVersion | None = None) -> FeatureIndex:
        """Read and validate an ``.index``; with ``version``, also check that it fits the model."""
        import faiss

        path = Path(path)
        if not path.is_file():
            raise RvcIndexError(f"{path} does not exist or is not a file")
        try:
            index = faiss.read_index(str(path))
        except RuntimeError:
            raise RvcIndexError(f"{path.name} is not a faiss index file (RVC's .index)") from None
        dimension = int(index.d)
        if dimension not in (RvcVersion.V1.content_dim, RvcVersion.V2.content_dim):
            raise RvcIndexError(
                f"{path.name} holds {dimension}-d vectors; RVC indexes hold 256-d (v1) "
                "or 768-d (v2) content features"
            )
        if version is not None and dimension != version.content_dim:
            made_for = "v1" if dimension == RvcVersion.V1.content_dim else "v2"
            raise RvcIndexError(
                f"{path.name} was made for an RVC {made_for} model ({dimension}-d), but the "
                f"voice model is {version.value} ({version.content_dim}-d)"
            )
        if index.ntotal == 0:
            raise RvcIndexError(f"{path.name} is empty (no training features were added)")
        try:
            vectors = index.reconstruct_n(0, index.ntotal)
        except RuntimeError as error:
            raise RvcIndexError(
                f"{path.name}: faiss cannot list its vectors ({str(error).splitlines()[0]})"
            ) from None
        return cls(index, np.ascontiguousarray(vectors, dtype=np.float32), path)

    def retrieve(self, features: np.ndarray) -> np.ndarray:
        """(frames, dim) -> the 1/D²-weighted mean of each frame's nearest training frames."""
        queries = np.ascontiguousarray(features, dtype=np.float32)
        distances, labels = self.index.search(queries, NEIGHBOURS)
        found = labels >= 0
        squared = np.maximum(distances.astype(np.float64), _DISTANCE_FLOOR)
        weights = np.where(found, 1.0 / np.square(squared), 0.0)
        totals = weights.sum(axis=1, keepdims=True)
        weights = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
        neighbours = self.vectors[np.where(found, labels, 0)]
        weighted: np.ndarray = np.einsum("fk,fkd->fd", weights, neighbours)
        retrieved = weighted.astype(np.float32)
        nothing_found = totals[:, 0] <= 0
        retrieved[nothing_found] = queries[nothing_found]
        return retrieved

    def blend(self, features: np.ndarray, rate: float) -> np.ndarray:
        """``rate`` of the retrieved features plus ``1 - rate`` of the input's."""
        if rate <= 0.0:
            return np.asarray(features, dtype=np.float32)
        retrieved = self.retrieve(features)
        return (rate * retrieved + (1.0 - rate) * features).astype(np.float32)
