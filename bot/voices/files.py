"""Voices' folders on disk, kept consistent with their rows.

The rule that keeps the two consistent: files are written completely (atomically)
*before* a row points at them, and rows are deleted *before* their files. A crash
in between therefore leaves only unreferenced files, which :meth:`VoiceLibrary.sweep`
removes at start-up.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from bot.store import Store
from engine.api import remove_stale_temporaries

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SweepReport:
    orphan_folders: list[Path]
    stale_temporaries: list[Path]


class VoiceLibrary:
    """Where each voice's files live under the data dir, and their removal."""

    def __init__(self, store: Store, data_dir: Path) -> None:
        self._store = store
        self._data_dir = data_dir

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

    async def remove_folder(self, voice_id: str) -> None:
        """Remove a voice's folder (after its rows are gone, or when they never came)."""
        await asyncio.to_thread(shutil.rmtree, self.folder(voice_id), True)

    async def sweep(self) -> SweepReport:
        """Remove voice folders no row points at, and leftovers of interrupted writes."""
        known = await self._store.voices.all_ids()

        def sweep_files() -> SweepReport:
            orphans = []
            if self.voices_dir.exists():
                for folder in self.voices_dir.iterdir():
                    if folder.is_dir() and folder.name not in known:
                        shutil.rmtree(folder, ignore_errors=True)
                        orphans.append(folder)
            stale = remove_stale_temporaries(self._data_dir)
            return SweepReport(orphans, stale)

        report = await asyncio.to_thread(sweep_files)
        if report.orphan_folders or report.stale_temporaries:
            log.warning(
                "start-up sweep removed %d orphan voice folder(s) and %d unfinished file(s)",
                len(report.orphan_folders),
                len(report.stale_temporaries),
            )
        return report
