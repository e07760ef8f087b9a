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
import dataclasses
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from pathlib import Path

from engine.remote import messages
from engine.remote.messages import Blob, ResumePoint, TrainingFile, TrainingFilePiece
from engine.remote.pieces import PieceReader, PiecesOutOfOrderError, PieceWriter
from engine.training.checkpoints import checkpoint_path, checkpoint_set, place_checkpoint
from engine.training.progress import TrainedModel
from engine.training.service import CHECKPOINT_FOLDER

log = logging.getLogger(__name__)

UPLOAD_EVERY_S = 300.0
"""The most often a replica sends a training's checkpoint back (after the first): what a
lost replica costs is at most this much training, plus the epochs to the next checkpoint."""


def checkpoints_in(work_dir: Path) -> Path:
    """Where a training keeps its checkpoints under its work folder (both engines)."""
    return work_dir / CHECKPOINT_FOLDER


async def file_pieces(
    reader: PieceReader, file: TrainingFile, source_hash: str = ""
) -> AsyncGenerator[TrainingFilePiece, None]:
    """On the replica: a file's pieces, read off the event loop one at a time."""
    try:
        while (piece := await asyncio.to_thread(reader.next_piece)) is not None:
            offset, data = piece
            yield TrainingFilePiece(file, offset, data, reader.size, source_hash)
    finally:
        reader.close()


async def result_pieces(result: TrainedModel) -> AsyncGenerator[TrainingFilePiece, None]:
    """On the replica: the trained model's files, in pieces."""
    for file, path in ((TrainingFile.MODEL, result.model), (TrainingFile.INDEX, result.index)):
        reader = await asyncio.to_thread(PieceReader.open, path, messages.PIECE_BYTES)
        async with contextlib.aclosing(file_pieces(reader, file)) as pieces:
            async for piece in pieces:
                yield piece


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

    def due(self) -> tuple[PieceReader, str] | None:
        """The newest checkpoint (held open) and its training set, when it is new and one
        may be sent now (blocking IO)."""
        now = time.monotonic()
        if self._sent_at is not None and now - self._sent_at < self.every_s:
            return None
        source_hash = checkpoint_set(self.folder)
        if source_hash is None:
            return None
        try:
            reader = PieceReader.open(checkpoint_path(self.folder), self.piece_bytes)
        except FileNotFoundError:
            return None
        stamp = reader.stamp
        if stamp == self._seen:
            reader.close()
            return None
        self._seen, self._sent_at = stamp, now
        return reader, source_hash

    async def pieces_due(self) -> AsyncGenerator[TrainingFilePiece, None]:
        """The pieces of the newest checkpoint when one is due (none otherwise)."""
        due = await asyncio.to_thread(self.due)
        if due is not None:
            reader, source_hash = due
            pieces = file_pieces(reader, TrainingFile.CHECKPOINT, source_hash)
            async with contextlib.aclosing(pieces):
                async for piece in pieces:
                    yield piece


class TrainingReceiver:
    """On the caller: the files a training sends back, each written into a temporary file
    beside where it goes. A checkpoint replaces the kept one once it is whole; the model
    and its index are placed when the training reports it is done. A stream that ends
    mid-way (a lost replica) leaves the kept checkpoint as it was and nothing else behind.
    Blocking IO throughout."""

    def __init__(self, work_dir: Path, output_dir: Path) -> None:
        self.checkpoints = checkpoints_in(work_dir)
        self.output_dir = output_dir
        self._writers: dict[TrainingFile, PieceWriter] = {}

    def accept(self, piece: TrainingFilePiece) -> None:
        """Take one piece (a new file starts at offset 0)."""
        if piece.offset == 0:
            self._drop(piece.file)
            folder = self.checkpoints if piece.file is TrainingFile.CHECKPOINT else self.output_dir
            self._writers[piece.file] = PieceWriter(folder, ".pt")
        writer = self._writers.get(piece.file)
        try:
            if writer is None:
                raise PiecesOutOfOrderError(f"a {piece.file} piece at {piece.offset} came first")
            whole = writer.write(piece.offset, piece.data, piece.size)
        except PiecesOutOfOrderError:
            self._drop(piece.file)
            if piece.file is not TrainingFile.CHECKPOINT:
                raise
            log.warning("a checkpoint piece came out of order; this checkpoint is dropped")
            return
        if whole and piece.file is TrainingFile.CHECKPOINT:
            del self._writers[piece.file]
            place_checkpoint(self.checkpoints, writer.temporary, piece.source_hash, move=True)

    def finish(self, result: TrainedModel) -> TrainedModel:
        """The trained model with its files placed in the output folder."""
        model = self._writers.pop(TrainingFile.MODEL).place(self.output_dir / result.model.name)
        index = self._writers.pop(TrainingFile.INDEX).place(self.output_dir / result.index.name)
        return dataclasses.replace(result, model=model, index=index)

    def discard(self) -> None:
        """Drop whatever did not arrive whole."""
        for file in list(self._writers):
            self._drop(file)

    def _drop(self, file: TrainingFile) -> None:
        writer = self._writers.pop(file, None)
        if writer is not None:
            writer.discard()


async def resume_point(
    work_dir: Path, publish: Callable[[Path], Awaitable[Blob]]
) -> ResumePoint | None:
    """The checkpoint kept in ``work_dir``, sent to the cluster, or None when there is none."""
    folder = checkpoints_in(work_dir)
    source_hash = await asyncio.to_thread(checkpoint_set, folder)
    if source_hash is None:
        return None
    return ResumePoint(await publish(checkpoint_path(folder)), source_hash)
