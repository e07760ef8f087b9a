"""The engine's mono float audio as the frames discord.py's Opus encoder takes."""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import resample_poly

DISCORD_RATE = 48_000
CHANNELS = 2
FRAME_MS = 20
FRAME_SAMPLES = DISCORD_RATE * FRAME_MS // 1000
FRAME_BYTES = FRAME_SAMPLES * CHANNELS * 2  # s16le stereo: 3840 bytes per 20 ms
SILENCE = bytes(FRAME_BYTES)


def to_discord_pcm(samples: np.ndarray, sample_rate: int) -> bytes:
    """48 kHz stereo s16le, padded with silence to a whole number of 20 ms frames.

    discord.py reads past the end of a short frame without complaint, so the last
    frame is always padded here.
    """
    mono = np.asarray(samples, dtype=np.float32)
    if sample_rate != DISCORD_RATE:
        divisor = math.gcd(sample_rate, DISCORD_RATE)
        mono = resample_poly(mono, DISCORD_RATE // divisor, sample_rate // divisor).astype(
            np.float32
        )
    pcm = (np.clip(mono, -1.0, 1.0) * 32767.0).astype("<i2")
    stereo = np.repeat(pcm, CHANNELS)
    padding = (-len(stereo)) % (FRAME_SAMPLES * CHANNELS)
    if padding:
        stereo = np.concatenate([stereo, np.zeros(padding, dtype="<i2")])
    return stereo.tobytes()


def split_frames(pcm: bytes) -> list[bytes]:
    if len(pcm) % FRAME_BYTES:
        raise ValueError(f"PCM length {len(pcm)} is not a multiple of {FRAME_BYTES}")
    return [pcm[offset : offset + FRAME_BYTES] for offset in range(0, len(pcm), FRAME_BYTES)]


def to_discord_frames(samples: np.ndarray, sample_rate: int) -> list[bytes]:
    """Blocking (resampling): call it off the event loop."""
    return split_frames(to_discord_pcm(samples, sample_rate))
