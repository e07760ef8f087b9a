"""Cleaning up what the model returns."""

from __future__ import annotations

import numpy as np

FRAME_MS = 20


def trim_trailing_noise(
    samples: np.ndarray,
    sample_rate: int,
    *,
    floor_db: float = -40.0,
    keep_ms: int = 80,
    fade_ms: int = 15,
) -> np.ndarray:
    """Cut the breath and hiss Chatterbox often leaves after the last word.

    The end of speech is the last 20 ms frame within ``floor_db`` of the loudest
    frame; ``keep_ms`` after it survives and a short fade avoids a click.
    """
    frame = max(1, sample_rate * FRAME_MS // 1000)
    count = len(samples) // frame
    if count < 3:
        return samples
    frames = samples[: count * frame].reshape(count, frame)
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1) + 1e-12)
    threshold = rms.max() * 10 ** (floor_db / 20)
    active = np.nonzero(rms >= threshold)[0]
    if active.size == 0:
        return samples
    end = min(len(samples), (int(active[-1]) + 1) * frame + sample_rate * keep_ms // 1000)
    trimmed = samples[:end].astype(np.float32, copy=True)
    fade = min(len(trimmed), sample_rate * fade_ms // 1000)
    if fade > 1:
        trimmed[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return trimmed
