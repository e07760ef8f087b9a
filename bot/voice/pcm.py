"""The engine's mono float audio as the frames discord.py's Opus encoder takes."""

from __future__ import annotations

import math

import numpy as np

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
        from scipy.signal import resample_poly  # deferred: 0.6 s on every CLI start

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


class DiscordPcmStream:
    """Audio that arrives in pieces, turned into Discord frames as if it came in one.

    Resampling each piece on its own would ring at every piece's edges, and padding each
    piece to whole frames would put up to 20 ms of silence between them. This keeps a
    short context of input on both sides of every cut (more than the resampling filter
    reaches), so the output equals resampling the whole audio at once, and carries the
    samples that do not fill a frame over to the next piece. Blocking (resampling):
    call it off the event loop.
    """

    CONTEXT_MS = 2
    """Input kept around each cut; scipy's resample_poly filter reaches 10 input samples
    each way for 24 → 48 kHz (a tenth of this)."""

    def __init__(self, sample_rate: int) -> None:
        divisor = math.gcd(sample_rate, DISCORD_RATE)
        self._up, self._down = DISCORD_RATE // divisor, sample_rate // divisor
        context = max(1, sample_rate * self.CONTEXT_MS // 1000)
        self._context = -(-context // self._down) * self._down  # whole blocks of `down`
        # Leading zeros stand in for what one-shot resampling pads the start with.
        self._pending = np.zeros(self._context, dtype=np.float32)
        self._carry = b""

    def feed(self, samples: np.ndarray) -> list[bytes]:
        """The whole frames that ``samples`` completes."""
        self._pending = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
        usable = len(self._pending) - 2 * self._context
        emit = (usable // self._down) * self._down
        if emit <= 0:
            return []
        window = self._pending[: emit + 2 * self._context]
        resampled = self._resample(window)
        start = self._context * self._up // self._down
        stop = start + emit * self._up // self._down
        self._pending = self._pending[emit:]
        return self._frames(resampled[start:stop], final=False)

    def finish(self) -> list[bytes]:
        """The rest, the last frame padded with silence."""
        resampled = self._resample(self._pending)
        start = self._context * self._up // self._down
        self._pending = np.zeros(self._context, dtype=np.float32)
        return self._frames(resampled[start:], final=True)

    def _resample(self, samples: np.ndarray) -> np.ndarray:
        if self._up == self._down:
            return samples
        from scipy.signal import resample_poly  # deferred: 0.6 s on every CLI start

        resampled: np.ndarray = resample_poly(samples, self._up, self._down)
        return resampled.astype(np.float32)

    def _frames(self, mono: np.ndarray, *, final: bool) -> list[bytes]:
        pcm = (np.clip(mono, -1.0, 1.0) * 32767.0).astype("<i2")
        data = self._carry + np.repeat(pcm, CHANNELS).tobytes()
        whole = len(data) - len(data) % FRAME_BYTES
        data, self._carry = data[:whole], data[whole:]
        if final and self._carry:
            data += self._carry + bytes(FRAME_BYTES - len(self._carry))
            self._carry = b""
        return split_frames(data)
