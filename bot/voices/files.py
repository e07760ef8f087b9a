"""Voices' folders on disk, kept consistent with their rows.

The rule that keeps the two consistent: files are written completely (atomically)
*before* a row points at them, and rows are deleted *before* their files. A crash
in between therefore leaves only unreferenced files, which :meth:`VoiceLibrary.sweep`
removes at start-up, except the folder of an enrolment still in progress (in this
process or another: see :mod:`bot.voices.locks`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.store import Store
from bot.voices.locks import (
    LOCK_SUFFIX,
    acquire,
    lock_path,
    possibly_in_progress,
    release,
    try_acquire,
)

log = logging.getLogger(__name__)

TEMP_PREFIX = ".tmp-"
"""How the engine's atomic writers (and attachment downloads) name files until complete."""
STALE_AFTER_S = 15 * 60.0
"""A temporary file or upload younger than this may belong to a write still under way in
another process (``parrot voices rebuild``, a singing model being copied): it stays."""
UPLOADS_FOLDER = Path("tmp") / "uploads"

RemovalListener = Callable[[str], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class SweepReport:
    orphan_folders: list[Path]
    stale_temporaries: list[Path]
    in_progress: list[Path] = field(default_factory=list)
    """Folders without a row whose enrolment is still running: left alone."""


class VoiceLibrary:
    """Where each voice's files live under the data dir, and their removal."""

    def __init__(self, store: Store, data_dir: Path) -> None:
        self._store = store
        self._data_dir = data_dir
        self._removal_listeners: list[RemovalListener] = []

    @property
    def voices_dir(self) -> Path:
        return self._data_dir / "voices"

    def folder(self, voice_id: str) -> Path:
        return self.voices_dir / voice_id

    def path(self, relative: str) -> Path:
        """A stored relative path as an absolute one, refusing anything outside the data dir."""
        resolved = (self._data_dir / relative).resolve()
        if not resolved.is_relative_to(self._data_dir.resolve()):
            raise ValueError(f"stored path {relative!r} points outside the data directory")
        return resolved

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self._data_dir.resolve()).as_posix()

    def on_removal(self, listener: RemovalListener) -> None:
        """Call ``listener(voice_id)`` before a voice's folder is removed: whatever still
        reads it (a cover being made) stops first."""
        self._removal_listeners.append(listener)

    async def remove_folder(self, voice_id: str) -> None:
        """Remove a voice's folder (after its rows are gone, or when they never came)."""
        for listener in list(self._removal_listeners):
            try:
                await listener(voice_id)
            except Exception:  # removal goes on: the rows are already gone
                log.exception("could not stop the work on voice %s before removing it", voice_id)
        await asyncio.to_thread(shutil.rmtree, self.folder(voice_id), True)

    @contextlib.asynccontextmanager
    async def enrolment(self, voice_id: str) -> AsyncIterator[Path]:
        """Hold the enrolment lock of a voice whose rows do not exist yet; yields its folder.

        Take it before the folder is created and keep it until the rows are committed
        (or the folder is removed): no sweep removes the folder meanwhile."""
        lock = await asyncio.to_thread(acquire, lock_path(self.voices_dir, voice_id))
        try:
            yield self.folder(voice_id)
        finally:
            await asyncio.to_thread(release, lock)

    async def sweep(self) -> SweepReport:
        """Remove voice folders no row points at (unless their enrolment is in progress),
        dead enrolment locks, and leftovers of interrupted writes and downloads."""
        known = await self._store.voices.all_ids()
        candidates = await asyncio.to_thread(self._unknown_folders, known)
        orphans: list[Path] = []
        busy: list[Path] = []
        for folder in candidates:
            if await self._remove_if_orphan(folder):
                orphans.append(folder)
            else:
                busy.append(folder)
        stale = await asyncio.to_thread(self._remove_leftovers, busy)
        report = SweepReport(orphans, stale, busy)
        if orphans or stale:
            log.warning(
                "start-up sweep removed %d orphan voice folder(s) and %d unfinished file(s)",
                len(orphans),
                len(stale),
            )
        if busy:
            log.info("start-up sweep left %d enrolment(s) in progress alone", len(busy))
        return report

    def _unknown_folders(self, known: set[str]) -> list[Path]:
        if not self.voices_dir.exists():
            return []
        return sorted(
            folder
            for folder in self.voices_dir.iterdir()
            if folder.is_dir() and folder.name not in known
        )

    async def _remove_if_orphan(self, folder: Path) -> bool:
        """Under the folder's lock, and only if its row still does not exist."""
        lock = await asyncio.to_thread(try_acquire, lock_path(self.voices_dir, folder.name))
        if lock is None:
            return False
        try:
            if possibly_in_progress(folder) or await self._store.voices.get(folder.name):
                return False  # its enrolment committed since ``known`` was read
            await asyncio.to_thread(shutil.rmtree, folder, True)
            return True
        finally:
            await asyncio.to_thread(release, lock)

    def _remove_leftovers(self, busy: Iterable[Path]) -> list[Path]:
        """Dead locks; temporaries and uploads old enough not to be in use, outside ``busy``."""
        skipped = [folder.resolve() for folder in busy]
        removed: list[Path] = []
        if self.voices_dir.exists():
            for candidate in self.voices_dir.glob(f"*{LOCK_SUFFIX}"):
                lock = try_acquire(candidate)
                if lock is not None:  # nobody holds it: its enrolment ended or died
                    release(lock)  # removes the file
        if not self._data_dir.exists():
            return removed
        deadline = time.time() - STALE_AFTER_S
        uploads = self._data_dir / UPLOADS_FOLDER
        leftovers = [*self._data_dir.rglob(f"{TEMP_PREFIX}*")]
        if uploads.is_dir():
            leftovers += [path for path in uploads.iterdir() if path not in leftovers]
        for candidate in leftovers:
            if not candidate.is_file() or _inside(candidate.resolve(), skipped):
                continue
            if candidate.stat().st_mtime < deadline:
                candidate.unlink(missing_ok=True)
                removed.append(candidate)
        return removed


def _inside(path: Path, folders: list[Path]) -> bool:
    return any(path.is_relative_to(folder) for folder in folders)
