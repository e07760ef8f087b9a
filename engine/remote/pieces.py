"""Files that travel between a replica and the caller in pieces, in order, so that
neither side holds a large one whole (:data:`~engine.remote.messages.PIECE_BYTES`).

The reader reads from a file it holds open (a newer file replacing it mid-way is not
mixed in); the writer writes into a temporary file that appears under its name only once
the last piece is in. Both do blocking IO: call them off the event loop.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from engine.files import TEMP_PREFIX


class PiecesOutOfOrderError(ValueError):
    """A piece that does not continue the file being written (a bug, not a user's error)."""


class PieceReader:
    def __init__(self, handle: BinaryIO, piece_bytes: int) -> None:
        self._handle = handle
        self._piece_bytes = piece_bytes
        stat = os.fstat(handle.fileno())
        self.size = stat.st_size
        self.stamp = (stat.st_mtime_ns, stat.st_size)
        """What tells this file from a newer one under the same name."""
        self._offset = 0
        self._done = False

    @classmethod
    def open(cls, path: Path, piece_bytes: int) -> PieceReader:
        return cls(path.open("rb"), piece_bytes)

    def next_piece(self) -> tuple[int, bytes] | None:
        """(offset, bytes) of the next piece, or None after the last (an empty file is one
        empty piece)."""
        if self._done:
            return None
        offset = self._offset
        wanted = min(self._piece_bytes, self.size - offset)
        data = self._handle.read(wanted)
        if len(data) != wanted:
            raise OSError(f"{self._handle.name} ended {self.size - offset} bytes early")
        self._offset += len(data)
        self._done = self._offset >= self.size
        return offset, data

    def close(self) -> None:
        self._handle.close()


class PieceWriter:
    """Writes one file's pieces, in order, into a temporary file in ``folder``."""

    def __init__(self, folder: Path, suffix: str = "") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix, dir=folder)
        self._handle: BinaryIO | None = os.fdopen(fd, "wb")
        self.temporary = Path(name)
        self._written = 0

    def write(self, offset: int, data: bytes, size: int) -> bool:
        """Add the piece at ``offset`` of a ``size``-byte file; True once the file is whole
        (flushed to disk and closed: :attr:`temporary` may be renamed into place)."""
        if self._handle is None or offset != self._written or offset + len(data) > size:
            raise PiecesOutOfOrderError(
                f"a piece at {offset} of {size} bytes, after {self._written} bytes"
            )
        self.append(data)
        if self._written < size:
            return False
        self.finish()
        return True

    def append(self, data: bytes) -> None:
        """Add the next piece (the caller keeps the order)."""
        if self._handle is None:
            raise PiecesOutOfOrderError(f"a piece after the end ({self._written} bytes)")
        self._handle.write(data)
        self._written += len(data)

    def finish(self) -> None:
        """The file is whole: flush it to disk and close it."""
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None

    def place(self, path: Path) -> Path:
        """Rename the whole file to ``path`` (on the same file system)."""
        if self._handle is not None:
            raise PiecesOutOfOrderError(f"{path.name} is not whole yet ({self._written} bytes)")
        os.replace(self.temporary, path)
        return path

    def discard(self) -> None:
        """Drop what was written (a stream that ended mid-way); no file is left behind."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        with contextlib.suppress(FileNotFoundError):
            self.temporary.unlink()
