"""``rms_mix_rate``: give the converted voice the input's loudness envelope, in part or fully."""

from __future__ import annotations

import numpy as np

HOP_S = 0.5
"""RVC measures loudness every half second, over one-second windows centred there."""
_RMS_FLOOR = 1e-6


def rms_envelope(samples: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(centre times in s, RMS) of zero-padded one-second windows every half second."""
    hop = half = max(1, int(rate * HOP_S))
    padded = np.pad(np.asarray(samples, dtype=np.float64) ** 2, (half, half))
    running = np.concatenate([[0.0], np.cumsum(padded)])
    centres = np.arange(0, len(samples) + 1, hop)
    energy = (running[centres + 2 * half] - running[centres]) / (2 * half)
    return centres / rate, np.sqrt(np.maximum(energy, 0.0))


def mix_loudness(
    source: np.ndarray, source_rate: int, converted: np.ndarray, converted_rate: int, rate: float
) -> np.ndarray:
    """Scale ``converted`` by (input RMS / own RMS)^(1 - rate), both envelopes interpolated.

    ``rate`` 1 leaves the converted audio as it is; 0 makes its envelope the input's.
    """
    if rate >= 1.0 or len(converted) == 0:
        return converted
    times = np.arange(len(converted)) / converted_rate
    source_times, source_rms = rms_envelope(source, source_rate)
    own_times, own_rms = rms_envelope(converted, converted_rate)
    target = np.interp(times, source_times, source_rms)
    own = np.maximum(np.interp(times, own_times, own_rms), _RMS_FLOOR)
    gain = (target / own) ** (1.0 - rate)
    scaled: np.ndarray = converted * gain
    return scaled.astype(np.float32)
