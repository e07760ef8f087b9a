"""Cutting a long signal into overlapping pieces and joining the processed pieces again.

Long work is done piece by piece so that each piece is one short executor job (live
speech gets the device between pieces) and cancellation never waits for a whole song.
Neighbouring pieces overlap; across the overlap one piece fades out linearly while the
next fades in, and the two weights sum to exactly one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Piece:
    """Frames ``[start, stop)`` of the input, with linear ramps at the shared edges."""

    index: int
    start: int
    stop: int
    fade_in: int
    fade_out: int

    @property
    def frames(self) -> int:
        return self.stop - self.start

    def weights(self) -> np.ndarray:
        """Per-frame weight of this piece's output in the joined result."""
        weight = np.ones(self.frames, dtype=np.float32)
        if self.fade_in:
            weight[: self.fade_in] = (np.arange(self.fade_in) + 0.5) / self.fade_in
        if self.fade_out:
            weight[self.frames - self.fade_out :] = (
                np.arange(self.fade_out, 0, -1) - 0.5
            ) / self.fade_out
        return weight


def plan_pieces(frames: int, piece_frames: int, overlap_frames: int) -> list[Piece]:
    """Pieces of about ``piece_frames`` covering ``frames``, each pair sharing an overlap.

    The pieces are of equal core length (between 2/3 and 3/2 of ``piece_frames``), so
    no tiny last piece is left over. The overlap shrinks to fit short pieces.
    """
    if frames <= 0:
        raise ValueError("nothing to cut: the signal is empty")
    if piece_frames <= 0:
        raise ValueError("piece_frames must be positive")
    count = max(1, round(frames / piece_frames))
    bounds = [round(index * frames / count) for index in range(count + 1)]
    shortest = min(b - a for a, b in itertools.pairwise(bounds))
    half = max(0, min(overlap_frames, shortest) // 2)
    pieces = []
    for index in range(count):
        first, last = index == 0, index == count - 1
        start = bounds[index] - (0 if first else half)
        stop = bounds[index + 1] + (0 if last else half)
        pieces.append(Piece(index, start, stop, 0 if first else 2 * half, 0 if last else 2 * half))
    return pieces


class OverlapAdd:
    """Accumulates processed pieces, shaped ``(..., piece.frames)``, into one signal."""

    def __init__(self, leading_shape: tuple[int, ...], frames: int) -> None:
        self.output = np.zeros((*leading_shape, frames), dtype=np.float32)
        self._added: set[int] = set()

    def add(self, piece: Piece, processed: np.ndarray) -> None:
        if processed.shape[-1] != piece.frames:
            raise ValueError(
                f"piece {piece.index} came back with {processed.shape[-1]} frames, "
                f"expected {piece.frames}"
            )
        self.output[..., piece.start : piece.stop] += processed * piece.weights()
        self._added.add(piece.index)

    def result(self, expected_pieces: int) -> np.ndarray:
        missing = sorted(set(range(expected_pieces)) - self._added)
        if missing:
            raise RuntimeError(f"pieces {missing} were never added")
        return self.output
