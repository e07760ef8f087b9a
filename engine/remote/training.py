"""Trainings on replicas that survive their replica: checkpoints travel back to the caller.

A replica's work folder dies with it. So the replica sends each new checkpoint back (the
first at once, then at most every :data:`UPLOAD_EVERY_S`; a real-size one is about 1.3 GB
and travels in pieces), the caller keeps it in its own work folder exactly where the
embedded engine keeps its checkpoints, and every attempt — the retry after a lost
replica, or the bot's recovery after a restart — sends the kept checkpoint with the
request. The engine on the replica resumes from it when it belongs to the same training
set, and starts over otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import BinaryIO

from engine.files import TEMP_PREFIX
from engine.remote import messages
from engine.remote.messages import Blob, ResumePoint, TrainingCheckpointPart
from engine.training.checkpoints import checkpoint_path, checkpoint_set, place_checkpoint
from engine.training.service import CHECKPOINT_FOLDER

log = logging.getLogger(__name__)

UPLOAD_EVERY_S = 300.0
"""The most often a replica sends a training's checkpoint back (after the first): what a
lost replica costs is at most this much training, plus the epochs to the next checkpoint."""


def checkpoints_in(work_dir: Path) -> Path:
    """Where a training keeps its checkpoints under its work folder (both engines)."""
    return work_dir / CHECKPOINT_FOLDER


class CheckpointUpload:
    """On the replica: one checkpoint being sent, read in pieces from the file as it was
    when it became due (held open: a newer checkpoint replacing it mid-way is not mixed in)."""

    def __init__(self, handle: BinaryIO, source_hash: str, piece_bytes: int) -> None:
        self._handle = handle
        self._source_hash = source_hash
        self._piece_bytes = piece_bytes
        self._size = os.fstat(handle.fileno()).st_size
        self._offset = 0

    def next_part(self) -> TrainingCheckpointPart | None:
        """The next piece, or None once all were read (blocking IO)."""
        if self._offset >= self._size:
            return None
        data = self._handle.read(min(self._piece_bytes, self._size - self._offset))
        if not data:
            raise OSError(f"the checkpoint ended {self._size - self._offset} bytes early")
        part = TrainingCheckpointPart(self._source_hash, self._offset, data, self._size)
        self._offset += len(data)
        return part

    def close(self) -> None:
        self._handle.close()


class CheckpointWatch:
    """On the replica: notices when the run wrote a new checkpoint worth sending."""

    def __init__(
        self, folder: Path, every_s: float = UPLOAD_EVERY_S, piece_bytes: int | None = None
    ) -> None:
        self.folder = folder
        self.every_s = every_s
        self.piece_bytes = piece_bytes or messages.PIECE_BYTES
        self._seen = self._stamp()
        """A checkpoint already here (one the caller sent) is not sent back."""
        self._sent_at: float | None = None

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = checkpoint_path(self.folder).stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def due(self) -> CheckpointUpload | None:
        """The newest checkpoint, when it is new and one may be sent now (blocking IO)."""
        now = time.monotonic()
        if self._sent_at is not None and now - self._sent_at < self.every_s:
            return None
        source_hash = checkpoint_set(self.folder)
        if source_hash is None:
            return None
        try:
            handle = checkpoint_path(self.folder).open("rb")
        except FileNotFoundError:
            return None
        stat = os.fstat(handle.fileno())
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._seen:
            handle.close()
            return None
        self._seen, self._sent_at = stamp, now
        return CheckpointUpload(handle, source_hash, self.piece_bytes)

    async def parts_due(self) -> AsyncIterator[TrainingCheckpointPart]:
        """The pieces of the newest checkpoint when one is due (none otherwise), read off
        the event loop one at a time."""
        upload = await asyncio.to_thread(self.due)
        if upload is None:
            return
        try:
            while (part := await asyncio.to_thread(upload.next_part)) is not None:
                yield part
        finally:
            upload.close()


class CheckpointReceiver:
    """On the caller: writes a checkpoint's pieces into a temporary file beside the kept
    checkpoint, which is replaced only once the last piece is in. A stream that ends
    mid-way (a lost replica) leaves the kept one as it was. Blocking IO throughout."""

    def __init__(self, work_dir: Path) -> None:
        self.folder = checkpoints_in(work_dir)
        self._incoming: tuple[BinaryIO, Path] | None = None
        self._expected: tuple[str, int, int] | None = None
        """(training set, next offset, size) of the checkpoint coming in."""

    def accept(self, part: TrainingCheckpointPart) -> Path | None:
        """Take one piece; the kept checkpoint's path once the last one is in."""
        if part.offset == 0:
            self.discard()
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".pt", dir=self.folder)
            self._incoming = (os.fdopen(fd, "wb"), Path(name))
        elif self._expected != (part.source_hash, part.offset, part.size):
            log.warning("a checkpoint piece came out of order; this checkpoint is dropped")
            self.discard()
            return None
        assert self._incoming is not None
        handle, temporary = self._incoming
        handle.write(part.data)
        self._expected = (part.source_hash, part.offset + len(part.data), part.size)
        if not part.last:
            return None
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        self._incoming, self._expected = None, None
        return place_checkpoint(self.folder, temporary, part.source_hash, move=True)

    def discard(self) -> None:
        """Drop a checkpoint that did not arrive whole."""
        if self._incoming is not None:
            handle, temporary = self._incoming
            handle.close()
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
        self._incoming, self._expected = None, None


async def resume_point(
    work_dir: Path, publish: Callable[[Path], Awaitable[Blob]]
) -> ResumePoint | None:
    """The checkpoint kept in ``work_dir``, sent to the cluster, or None when there is none."""
    folder = checkpoints_in(work_dir)
    source_hash = await asyncio.to_thread(checkpoint_set, folder)
    if source_hash is None:
        return None
    return ResumePoint(await publish(checkpoint_path(folder)), source_hash)
