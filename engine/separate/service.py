"""Separating a song into cached stems through the GPU executor, piece by piece."""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.executor import CancelToken, GpuExecutor, Priority
from engine.separate.cache import StageCache, WriteBehind, cache_key
from engine.separate.demucs import DemucsSeparator, SeparationPlan
from engine.separate.progress import Progress, from_worker, scaled
from engine.separate.song import DEFAULT_MAX_SONG_SECONDS, check_song_length
from engine.separate.stems import Stems, Track

STAGE = "stems"
TRACKS = ("vocals", "instrumental")


@dataclass(frozen=True, slots=True)
class StemsResult:
    stems: Stems
    key: str
    cache_hit: bool
    seconds: float
    """Wall time of this call (a hit costs only the read)."""
    device_seconds: float
    """Time spent in model jobs on the executor (0 on a hit)."""


class StemService:
    """Stems for a song, from the cache when possible; model work runs on ``executor``."""

    def __init__(
        self,
        executor: GpuExecutor,
        separator: DemucsSeparator,
        cache_dir: Path,
        *,
        piece_seconds: float = 30.0,
        max_song_seconds: float = DEFAULT_MAX_SONG_SECONDS,
        priority: Priority = Priority.COVER,
        write_behind: bool = False,
    ) -> None:
        self.executor = executor
        self.separator = separator
        self.cache = StageCache(cache_dir, STAGE)
        self.piece_seconds = piece_seconds
        self.max_song_seconds = max_song_seconds
        self.priority = priority
        self.write_behind = write_behind  # return before the stems are on disk; see flush()
        self._slot = executor.slot(separator.name, separator.load, lambda loaded: loaded.unload())
        self._writes = WriteBehind()

    def key_for(self, source_sha256: str) -> str:
        return cache_key(stage=STAGE, source=source_sha256, **self.separator.settings)

    async def separate(
        self, mix: Track, progress: Progress | None = None, *, source_sha256: str | None = None
    ) -> StemsResult:
        """Stems of ``mix`` (44.1 kHz stereo). Cancelling the caller cancels the running piece.

        Raises :class:`SongTooLongError` before any work when ``mix`` is over the limit.
        ``source_sha256`` is ``mix.sha256()`` when the caller has it already.
        """
        started = time.perf_counter()
        check_song_length(mix.duration, self.max_song_seconds)
        report = from_worker(progress, asyncio.get_running_loop())
        source = source_sha256
        if not source:
            source = await asyncio.to_thread(mix.sha256)
        key = self.key_for(source)
        await self._writes.settle(key)
        cached = await asyncio.to_thread(self.cache.load, key, TRACKS)
        if cached is not None:
            report(1.0)
            stems = Stems(cached["vocals"], cached["instrumental"])
            return StemsResult(stems, key, True, time.perf_counter() - started, 0.0)

        plan = self.separator.plan(mix, self.piece_seconds)
        count = len(plan.pieces)
        outputs: list[np.ndarray] = []
        device_seconds = 0.0
        for index in range(count):
            piece_report = scaled(report, index / count, (index + 1) / count)
            output, spent = await self.executor.run(
                functools.partial(self._piece, plan, index, piece_report),
                priority=self.priority,
                label=f"separate {index + 1}/{count}",
            )
            outputs.append(output)
            device_seconds += spent
        stems = await asyncio.to_thread(self.separator.assemble, plan, outputs)
        metadata = {
            "model": self.separator.model_name,
            "settings": self.separator.settings,
            "source_sha256": source,
            "duration_s": round(mix.duration, 3),
            "sample_rate": mix.sample_rate,
            "pieces": count,
            "device_seconds": round(device_seconds, 3),
        }
        tracks = {"vocals": stems.vocals, "instrumental": stems.instrumental}
        self._writes.start(key, self.cache.store, key, tracks, metadata)
        if not self.write_behind:
            await self._writes.flush()
        return StemsResult(stems, key, False, time.perf_counter() - started, device_seconds)

    async def flush(self) -> None:
        """Wait until every stems entry this service started writing is on disk."""
        await self._writes.flush()

    def _piece(
        self, plan: SeparationPlan, index: int, progress: Progress, token: CancelToken
    ) -> tuple[np.ndarray, float]:
        started = time.perf_counter()
        separator: DemucsSeparator = self._slot.get()
        output = separator.separate_piece(plan, index, token, progress)
        return output, time.perf_counter() - started
