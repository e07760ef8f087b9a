"""Marking finished audio (a mixed, mastered cover; any rate, any channels) with Perth.

Perth's ``apply_watermark`` resamples the whole signal to 32 kHz and back, which would
low-pass a 44.1 or 48 kHz song at 16 kHz. Parrot instead asks Perth what it *adds* at
32 kHz (its mark lives below 2 kHz) and adds that difference, resampled, to the original:
the band above 16 kHz stays untouched. The difference is computed on the mono downmix
and added to every channel, so the downmix a detector reads carries exactly Perth's mark.

A long track is marked in pieces (each one executor job, so live speech waits at most
one piece), each computed with a second of context on both sides and cross-faded into its
neighbours over a few milliseconds, so the joins neither click nor lose the mark.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import soxr  # type: ignore[import-untyped]  # no stubs; ships with librosa

from engine.audio import decode
from engine.executor import CancelToken, GpuExecutor, Priority
from engine.watermark.detect import PERTH_RATE, detector_confidence, load_perth

MARK_VERSION = 1
"""Part of cached outputs' keys: outputs made before marking changed are made again."""
MAX_CHECK_SECONDS = 3600.0
"""Longest file a check reads (covers are bounded far below this)."""
PIECE_SECONDS = 20.0
CONTEXT_SECONDS = 1.0
FADE_SECONDS = 0.05
PEAK_CEILING = 0.98
"""Marked audio over this peak is turned down (not clipped: clipping would smear the mark)."""


def _resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return samples.astype(np.float32, copy=False)
    resampled: np.ndarray = soxr.resample(samples, rate, target, quality="HQ")
    return resampled.astype(np.float32, copy=False)


def _fit(samples: np.ndarray, frames: int) -> np.ndarray:
    if len(samples) >= frames:
        return samples[:frames]
    return np.pad(samples, (0, frames - len(samples)))


def downmix(samples: np.ndarray) -> np.ndarray:
    """Mono float32 of ``(frames,)`` or ``(channels, frames)`` samples."""
    mono = samples if samples.ndim == 1 else samples.mean(axis=0)
    return np.ascontiguousarray(mono, dtype=np.float32)


def mark_delta(perth: Any, mono: np.ndarray, rate: int) -> np.ndarray:
    """What Perth's mark adds to ``mono`` (at ``rate``), as long as ``mono``; blocking."""
    low = _resample(mono, rate, PERTH_RATE)
    marked = np.asarray(perth.apply_watermark(low, sample_rate=PERTH_RATE), dtype=np.float32)
    return _fit(_resample(_fit(marked, len(low)) - low, PERTH_RATE, rate), len(mono))


def piece_bounds(frames: int, rate: int, piece_seconds: float = PIECE_SECONDS) -> list[int]:
    """Boundaries ``[0, b1, …, frames]`` of pieces about ``piece_seconds`` long."""
    count = max(1, round(frames / (piece_seconds * rate)))
    return [round(frames * index / count) for index in range(count + 1)]


def piece_delta(
    perth: Any, mono: np.ndarray, rate: int, bounds: list[int], index: int
) -> tuple[int, np.ndarray]:
    """Piece ``index``'s weighted share of the mark: ``(start frame, delta)``.

    The shares of all pieces sum to one everywhere: each ramps in over the fade around
    its first boundary and out around its last.
    """
    fade = max(1, round(FADE_SECONDS * rate))
    context = round(CONTEXT_SECONDS * rate)
    first, last = bounds[index], bounds[index + 1]
    start = first - fade // 2 if index > 0 else 0
    end = last + (fade - fade // 2) if index + 2 < len(bounds) else last
    window_start, window_end = max(0, start - context), min(len(mono), end + context)
    delta = mark_delta(perth, mono[window_start:window_end], rate)
    share = delta[start - window_start : end - window_start].copy()
    ramp = (np.arange(fade, dtype=np.float32) + 0.5) / fade
    if index > 0:
        share[:fade] *= ramp
    if index + 2 < len(bounds):
        share[len(share) - fade :] *= ramp[::-1]
    return start, share


def apply_delta(samples: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """``samples`` plus the mono ``delta`` on every channel, turned down if it would clip."""
    marked: np.ndarray = (samples + delta).astype(np.float32)
    peak = float(np.max(np.abs(marked))) if marked.size else 0.0
    if peak > PEAK_CEILING:
        marked *= PEAK_CEILING / peak
    return marked


class Marker(Protocol):
    """Puts the watermark on finished audio, and reads it back from a written file."""

    key: str
    """Names the marking in cache keys: another marking, another cached output."""

    async def mark(self, samples: np.ndarray, rate: int, *, strength: float = 1.0) -> np.ndarray:
        """``samples`` carrying the mark; ``strength`` scales what the mark adds."""
        ...

    async def file_confidence(self, path: Path) -> float:
        """The detector's confidence on an encoded file, between 0 and 1."""
        ...


class OutputMarker:
    """Marks finished outputs with Perth on the executor, one piece per job."""

    key = f"perth-{MARK_VERSION}"

    def __init__(self, executor: GpuExecutor, *, priority: Priority = Priority.COVER) -> None:
        self._executor = executor
        self._priority = priority
        self._perth = executor.slot("perth", lambda: load_perth(), lambda _perth: None)

    async def mark(self, samples: np.ndarray, rate: int, *, strength: float = 1.0) -> np.ndarray:
        """``samples`` (``(frames,)`` or ``(channels, frames)``) carrying the mark."""
        mono = downmix(samples)
        bounds = piece_bounds(len(mono), rate)
        delta = np.zeros_like(mono)
        for index in range(len(bounds) - 1):

            def piece(token: CancelToken, index: int = index) -> tuple[int, np.ndarray]:
                token.raise_if_cancelled()
                return piece_delta(self._perth.get(), mono, rate, bounds, index)

            start, share = await self._executor.run(
                piece, priority=self._priority, label="watermark"
            )
            delta[start : start + len(share)] += share
        return apply_delta(samples, strength * delta)

    async def confidence(self, samples: np.ndarray, rate: int) -> float:
        """The detector's confidence that mono ``samples`` carry the mark (one job)."""

        def detect(token: CancelToken) -> float:
            token.raise_if_cancelled()
            return detector_confidence(self._perth.get(), samples, rate)

        return await self._executor.run(detect, priority=self._priority, label="watermark")

    async def file_confidence(
        self,
        path: Path,
        *,
        max_bytes: int = 2**31,
        max_seconds: float = MAX_CHECK_SECONDS,
        decode_timeout: float = 120.0,
    ) -> float:
        """Decode ``path`` (any audio file) at Perth's rate and read the mark; raises
        ``AudioRejectedError`` for a file that cannot be read within the bounds."""
        audio = await asyncio.to_thread(
            decode,
            path,
            sample_rate=PERTH_RATE,
            max_bytes=max_bytes,
            max_seconds=max_seconds,
            timeout=decode_timeout,
        )
        return await self.confidence(audio.samples, audio.sample_rate)
