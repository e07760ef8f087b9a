"""Cutting long inputs into pieces at quiet moments, each converted with context around it.

Attention cost grows with the square of a piece's length, and a piece boundary in the
middle of a note is audible, so a long input is cut near every ``piece_s`` seconds at
the quietest 10 ms within ``search_s`` of that point. Each piece is converted together
with ``context_s`` of the neighbouring audio on both sides (reflected at the ends of the
input) and that context is dropped from the output; the pieces then join end to end.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from engine.convert.pitch.contour import FRAME_HOP, SAMPLE_RATE


@dataclass(frozen=True, slots=True)
class Chunking:
    """Piece sizes in seconds. Defaults are RVC's settings for float32 inference."""

    context_s: float = 1.0
    search_s: float = 6.0
    piece_s: float = 38.0
    single_max_s: float = 41.0
    """Inputs up to this long are converted in one piece."""

    def __post_init__(self) -> None:
        if not 0 < self.search_s < self.piece_s <= self.single_max_s:
            raise ValueError("chunking needs 0 < search_s < piece_s <= single_max_s")
        if self.context_s <= 0:
            raise ValueError("context_s must be positive")

    @property
    def context_samples(self) -> int:
        """Context in samples at 16 kHz, a whole number of frames."""
        return max(1, round(self.context_s * SAMPLE_RATE / FRAME_HOP)) * FRAME_HOP


def _loudness_envelope(samples: np.ndarray) -> np.ndarray:
    """Sum of |x| over the 10 ms window centred on each sample."""
    half = FRAME_HOP // 2
    padded = np.pad(np.abs(samples.astype(np.float64)), (half, half), mode="reflect")
    running = np.concatenate([[0.0], np.cumsum(padded)])
    window_sums: np.ndarray = (
        running[FRAME_HOP : FRAME_HOP + len(samples)] - running[: len(samples)]
    )
    return window_sums


def plan_pieces(samples: np.ndarray, chunking: Chunking) -> list[tuple[int, int]]:
    """(start, end) sample ranges covering ``samples``; inner boundaries are frame-aligned."""
    total = len(samples)
    if total <= chunking.single_max_s * SAMPLE_RATE:
        return [(0, total)]
    envelope = _loudness_envelope(samples)
    step = round(chunking.piece_s * SAMPLE_RATE)
    search = round(chunking.search_s * SAMPLE_RATE)
    cuts = [0]
    for nominal in range(step, total, step):
        low, high = max(cuts[-1] + FRAME_HOP, nominal - search), min(total, nominal + search)
        if high <= low:
            continue
        cut = (low + int(np.argmin(envelope[low:high]))) // FRAME_HOP * FRAME_HOP
        if cuts[-1] < cut < total:
            cuts.append(cut)
    cuts.append(total)
    return list(itertools.pairwise(cuts))
