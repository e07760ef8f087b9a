"""Cutting long vocals at quiet points, so every piece fits the converter and joins unheard."""

from __future__ import annotations

import numpy as np

from engine.audio import Audio
from engine.separate.pieces import Piece

FRAME_S = 0.01
MIN_LAST_PIECE_S = 1.0


def _frame_energy(samples: np.ndarray, frame: int) -> np.ndarray:
    count = len(samples) // frame
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame)
    energy: np.ndarray = np.mean(frames**2, axis=1)
    return energy


def quiet_cut_points(audio: Audio, max_seconds: float, search_seconds: float) -> list[int]:
    """Sample positions to cut at: the quietest 10 ms within ``search_seconds`` before each
    point where a piece would otherwise exceed ``max_seconds``; no cut leaves a last
    piece shorter than a second."""
    rate = audio.sample_rate
    limit = round(max_seconds * rate)
    if len(audio) <= limit:
        return []
    frame = max(1, round(FRAME_S * rate))
    energy = _frame_energy(audio.samples, frame)
    search = max(frame, min(round(search_seconds * rate), limit // 2))
    latest = (len(audio) - min(round(MIN_LAST_PIECE_S * rate), limit // 2)) // frame
    cuts: list[int] = []
    start = 0
    while len(audio) - start > limit:
        low = (start + limit - search) // frame
        high = max(low + 1, min(latest, (start + limit) // frame))
        quietest = low + int(np.argmin(energy[low:high]))
        cut = quietest * frame + frame // 2
        cuts.append(cut)
        start = cut
    return cuts


def quiet_pieces(
    audio: Audio,
    max_seconds: float = 20.0,
    *,
    overlap_seconds: float = 0.1,
    search_seconds: float = 4.0,
) -> list[Piece]:
    """Pieces of at most about ``max_seconds`` (plus the overlap), cut at quiet points.

    Neighbours share ``overlap_seconds`` around each cut for a crossfade, so joining the
    processed pieces with :class:`~engine.separate.pieces.OverlapAdd` keeps the length.
    """
    if len(audio) == 0:
        raise ValueError("nothing to cut: the vocals are empty")
    half = round(overlap_seconds * audio.sample_rate / 2)
    bounds = [0, *quiet_cut_points(audio, max_seconds, search_seconds), len(audio)]
    pieces = []
    last = len(bounds) - 2
    for index in range(last + 1):
        start = bounds[index] - (half if index else 0)
        stop = bounds[index + 1] + (half if index < last else 0)
        start, stop = max(0, start), min(len(audio), stop)
        fade_in = bounds[index] + half - start if index else 0
        fade_out = stop - (bounds[index + 1] - half) if index < last else 0
        pieces.append(Piece(index, start, stop, fade_in, fade_out))
    return pieces
