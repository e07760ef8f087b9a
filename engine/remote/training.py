"""Trainings on replicas that survive their replica: checkpoints travel back to the caller.

A replica's work folder dies with it. So the replica sends each new checkpoint back (the
first at once, then at most every :data:`UPLOAD_EVERY_S`: a real-size one is about 1.3 GB),
the caller keeps it in its own work folder exactly where the embedded engine keeps its
checkpoints, and every attempt — the retry after a lost replica, or the bot's recovery
after a restart — sends the kept checkpoint with the request. The engine on the replica
resumes from it when it belongs to the same training set, and starts over otherwise.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from engine.remote.messages import Blob, ResumePoint, TrainingCheckpoint
from engine.training.checkpoints import checkpoint_path, checkpoint_set, place_checkpoint
from engine.training.service import CHECKPOINT_FOLDER

UPLOAD_EVERY_S = 300.0
"""The most often a replica sends a training's checkpoint back (after the first): what a
lost replica costs is at most this much training, plus the epochs to the next checkpoint."""


def checkpoints_in(work_dir: Path) -> Path:
    """Where a training keeps its checkpoints under its work folder (both engines)."""
    return work_dir / CHECKPOINT_FOLDER


class CheckpointWatch:
    """On the replica: notices when the run wrote a new checkpoint worth sending."""

    def __init__(self, folder: Path, every_s: float = UPLOAD_EVERY_S) -> None:
        self.folder = folder
        self.every_s = every_s
        self._seen = self._stamp()
        """A checkpoint already here (one the caller sent) is not sent back."""
        self._sent_at: float | None = None

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = checkpoint_path(self.folder).stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def due(self) -> TrainingCheckpoint | None:
        """The newest checkpoint, when it is new and one may be sent now (blocking IO)."""
        now = time.monotonic()
        if self._sent_at is not None and now - self._sent_at < self.every_s:
            return None
        stamp = self._stamp()
        source_hash = checkpoint_set(self.folder)
        if stamp is None or stamp == self._seen or source_hash is None:
            return None
        data = checkpoint_path(self.folder).read_bytes()
        self._seen, self._sent_at = stamp, now
        return TrainingCheckpoint(data, source_hash)


def keep_checkpoint(work_dir: Path, checkpoint: TrainingCheckpoint) -> Path:
    """On the caller: keep a checkpoint a replica sent (blocking IO)."""
    return place_checkpoint(checkpoints_in(work_dir), checkpoint.data, checkpoint.source_hash)


async def resume_point(
    work_dir: Path, publish: Callable[[Path], Awaitable[Blob]]
) -> ResumePoint | None:
    """The checkpoint kept in ``work_dir``, sent to the cluster, or None when there is none."""
    folder = checkpoints_in(work_dir)
    source_hash = await asyncio.to_thread(checkpoint_set, folder)
    if source_hash is None:
        return None
    return ResumePoint(await publish(checkpoint_path(folder)), source_hash)
