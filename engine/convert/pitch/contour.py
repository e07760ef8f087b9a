"""Pitch contours as RVC consumes them: 100 frames/s, Hz with 0 for unvoiced, coarse ids."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16_000
FRAME_HOP = 160
"""Samples of 16 kHz audio per pitch frame (10 ms)."""
F0_MIN = 50.0
F0_MAX = 1100.0
COARSE_BINS = 255
"""Coarse ids run 1..255; 1 also stands for unvoiced."""


def _mel(f0: np.ndarray | float) -> np.ndarray:
    mel: np.ndarray = 1127.0 * np.log1p(np.asarray(f0, dtype=np.float64) / 700.0)
    return mel


_MEL_MIN = float(_mel(F0_MIN))
_MEL_MAX = float(_mel(F0_MAX))


def frame_count(samples: int) -> int:
    """Pitch/content frames for ``samples`` of 16 kHz audio."""
    return samples // FRAME_HOP


def clean(f0: np.ndarray) -> np.ndarray:
    """Hz as float32: non-finite or below 50 Hz becomes unvoiced (0), above 1100 Hz is capped."""
    f0 = np.nan_to_num(np.asarray(f0, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    f0 = np.where(f0 < F0_MIN, 0.0, np.minimum(f0, F0_MAX))
    return f0.astype(np.float32)


def fit_length(f0: np.ndarray, frames: int) -> np.ndarray:
    """Trim the end, or pad with unvoiced frames split evenly around the contour."""
    f0 = np.asarray(f0, dtype=np.float32)
    if len(f0) >= frames:
        return f0[:frames]
    missing = frames - len(f0)
    before = (missing + 1) // 2
    return np.pad(f0, (before, missing - before))


def shift_semitones(f0: np.ndarray, semitones: float) -> np.ndarray:
    """Transpose voiced frames; unvoiced frames stay 0."""
    return (np.asarray(f0, dtype=np.float32) * np.float32(2.0 ** (semitones / 12.0))).astype(
        np.float32
    )


def coarse_pitch(f0: np.ndarray) -> np.ndarray:
    """Quantise Hz to ids 1..255 linearly on the mel scale between 50 and 1100 Hz.

    Unvoiced (0 Hz) maps to 1, as does anything at or below 50 Hz; 1100 Hz and above is 255.
    """
    mel = _mel(np.maximum(np.asarray(f0, dtype=np.float64), 0.0))
    scaled = (mel - _MEL_MIN) * (COARSE_BINS - 1) / (_MEL_MAX - _MEL_MIN) + 1.0
    ids = np.where(mel > 0, scaled, 1.0)
    rounded: np.ndarray = np.rint(np.clip(ids, 1.0, float(COARSE_BINS)))
    return rounded.astype(np.int64)
