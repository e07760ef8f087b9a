"""Crash-safe file writes: write to a temporary name in the same folder, fsync, rename.

A reader (or a database row) therefore only ever sees a complete file: after a crash
there is either the old file, the new file, or a stray ``.tmp-*`` file that the
start-up sweep removes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TEMP_PREFIX = ".tmp-"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """Open a binary file that appears at ``path`` only if the block completes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        _fsync_dir(path.parent)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Give a temporary path for a library that writes files itself; renamed on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    os.close(fd)
    temp = Path(temp_name)
    try:
        yield temp
        with temp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, path)
        _fsync_dir(path.parent)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that no reader ever sees a partial file."""
    with atomic_writer(path) as handle:
        handle.write(data)


def atomic_copy(source: Path, destination: Path) -> None:
    """Copy a file so that ``destination`` is either absent or complete."""
    with source.open("rb") as src, atomic_writer(destination) as dst:
        shutil.copyfileobj(src, dst, length=1024 * 1024)


def remove_stale_temporaries(root: Path) -> list[Path]:
    """Delete leftovers of interrupted atomic writes below ``root``; return what went."""
    removed: list[Path] = []
    if not root.exists():
        return removed
    for candidate in root.rglob(f"{TEMP_PREFIX}*"):
        if candidate.is_file():
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed
