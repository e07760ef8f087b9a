"""Enrolment locks: a voice's folder exists before its row does, so the start-up sweep (of
this process or of a bot started while ``parrot voices enroll`` runs) must tell an orphan
from an enrolment in progress.

The enroller holds an exclusive ``flock`` on ``voices/<id>.enrolling`` from before it
creates the folder until its rows are committed. The kernel drops the lock when the process
dies, so a crashed enrolment never blocks the sweep: a lock the sweep can take is a dead
one. Blocking calls: run them in a thread.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl

    HAVE_FLOCK = True
except ImportError:  # Windows: no flock; the sweep falls back on the folder's age
    HAVE_FLOCK = False

LOCK_SUFFIX = ".enrolling"
UNLOCKED_GRACE_S = 6 * 3600.0
"""Without flock, a folder younger than this is taken for an enrolment in progress."""


@dataclass(slots=True)
class HeldLock:
    path: Path
    fd: int


def lock_path(voices_dir: Path, voice_id: str) -> Path:
    return voices_dir / f"{voice_id}{LOCK_SUFFIX}"


def _same_file(fd: int, path: Path) -> bool:
    """Still the file at ``path`` (not one a releaser unlinked while we waited for it)."""
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _take(path: Path, *, wait: bool) -> HeldLock | None:
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
        if HAVE_FLOCK:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                os.close(fd)
                return None
        if _same_file(fd, path):
            return HeldLock(path, fd)
        os.close(fd)  # released and removed while we waited: take the new one


def acquire(path: Path) -> HeldLock:
    """Take the lock at ``path`` (creating it), waiting while someone else holds it."""
    lock = _take(path, wait=True)
    assert lock is not None
    return lock


def try_acquire(path: Path) -> HeldLock | None:
    """Take the lock at ``path`` if nobody holds it; None otherwise."""
    return _take(path, wait=False)


def release(lock: HeldLock) -> None:
    """Remove the lock file, then let go of it (in that order: see :func:`acquire`)."""
    try:
        lock.path.unlink(missing_ok=True)
    finally:
        os.close(lock.fd)


def possibly_in_progress(folder: Path) -> bool:
    """Without flock, only the age of a folder hints that its enrolment still runs."""
    if HAVE_FLOCK:
        return False
    try:
        return time.time() - folder.stat().st_mtime < UNLOCKED_GRACE_S
    except FileNotFoundError:
        return False
