"""A keyed on-disk cache for the results of long audio stages (stems, converted vocals...).

Each entry is a folder ``<root>/<stage>/<key>/`` holding the stage's tracks as 24-bit
FLAC and a ``metadata.json`` written last: an entry without it (a crash mid-write) is a
miss. Every file is written atomically. The key is a SHA-256 over everything that
changes the output, so a changed input or setting can never return a stale result.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from engine.files import atomic_path, atomic_write_bytes
from engine.separate.stems import Track

log = logging.getLogger(__name__)

METADATA = "metadata.json"
FORMAT_VERSION = 1
"""Bumped when the stored layout changes; part of every key."""


def cache_key(**parts: Any) -> str:
    """A stable digest of ``parts`` (JSON-encoded with sorted keys)."""
    text = json.dumps({"format": FORMAT_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class StageCache:
    """The cache of one stage, e.g. ``StageCache(cache_dir, "stems")``."""

    def __init__(self, root: Path, stage: str) -> None:
        self.stage = stage
        self.root = root / stage

    def folder(self, key: str) -> Path:
        return self.root / key

    def metadata(self, key: str) -> dict[str, Any] | None:
        """The entry's metadata when the entry is complete, else None."""
        try:
            value = json.loads((self.folder(key) / METADATA).read_text())
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    # tracks -------------------------------------------------------------------------------
    def load(self, key: str, names: Sequence[str]) -> dict[str, Track] | None:
        """The named tracks of a complete entry; None (a miss) if anything is missing."""
        metadata = self.metadata(key)
        if metadata is None:
            return None
        files = metadata.get("files", {})
        tracks: dict[str, Track] = {}
        for name in names:
            info = files.get(name)
            if info is None:
                return None
            try:
                samples, rate = soundfile.read(
                    self.folder(key) / info["file"], dtype="float32", always_2d=True
                )
            except (OSError, RuntimeError, soundfile.LibsndfileError) as error:
                log.warning("cache entry %s/%s is unreadable (%s): ignored", self.stage, key, error)
                return None
            tracks[name] = Track(samples.T * float(info.get("scale", 1.0)), int(rate))
        self._touch(key)
        return tracks

    def store(
        self, key: str, tracks: Mapping[str, Track], metadata: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Write the tracks, then the metadata that makes the entry visible."""
        folder = self.folder(key)
        files: dict[str, dict[str, Any]] = {}
        for name, track in tracks.items():
            peak = float(np.max(np.abs(track.samples))) if track.frames else 0.0
            scale = max(1.0, peak)  # FLAC is fixed-point: keep loud stems from clipping
            filename = f"{name}.flac"
            with atomic_path(folder / filename) as temporary:
                soundfile.write(
                    temporary,
                    (track.samples / scale).T,
                    track.sample_rate,
                    format="FLAC",
                    subtype="PCM_24",
                )
            files[name] = {
                "file": filename,
                "sample_rate": track.sample_rate,
                "channels": track.channels,
                "frames": track.frames,
                "scale": scale,
            }
        return self._finish(key, {**metadata, "files": files})

    def load_entry(
        self, key: str, names: Sequence[str]
    ) -> tuple[dict[str, Track], dict[str, Any]] | None:
        """The tracks and the metadata of a complete entry, or None."""
        tracks = self.load(key, names)
        metadata = self.metadata(key)
        return None if tracks is None or metadata is None else (tracks, metadata)

    # plain files ------------------------------------------------------------------------------
    def path(self, key: str, filename: str) -> Path | None:
        """A stored file of a complete entry, or None."""
        metadata = self.metadata(key)
        if metadata is None or filename not in metadata.get("files", {}):
            return None
        path = self.folder(key) / filename
        if not path.is_file():
            return None
        self._touch(key)
        return path

    def store_file(
        self, key: str, source: Path, filename: str, metadata: Mapping[str, Any]
    ) -> Path:
        """Move ``source`` (a finished file) into the entry and mark the entry complete."""
        target = self.folder(key) / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as temporary:
            shutil.copyfile(source, temporary)
        self._finish(key, {**metadata, "files": {filename: {"file": filename}}})
        return target

    # internals ---------------------------------------------------------------------------------
    def _finish(self, key: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
        record = {
            "stage": self.stage,
            "key": key,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            **metadata,
        }
        text = json.dumps(record, indent=2, sort_keys=True, default=str) + "\n"
        atomic_write_bytes(self.folder(key) / METADATA, text.encode())
        return record

    def _touch(self, key: str) -> None:
        """Record use (access time), so a clean-up can drop the least recently used entries."""
        metadata = self.folder(key) / METADATA
        with contextlib.suppress(OSError):
            os.utime(metadata, (time.time(), metadata.stat().st_mtime))


def _entry_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())


def prune_cache(cache_dir: Path, max_bytes: int) -> list[Path]:
    """Delete the least recently used entries of every stage until the cache fits.

    Use is the access time of an entry's ``metadata.json`` (set on every hit); entries
    without one (interrupted writes) go first. Returns the folders removed.
    """
    entries: list[tuple[float, int, Path]] = []
    for stage in (
        (path for path in cache_dir.iterdir() if path.is_dir()) if cache_dir.is_dir() else ()
    ):
        for folder in (path for path in stage.iterdir() if path.is_dir()):
            try:
                used = (folder / METADATA).stat().st_atime
            except OSError:
                used = 0.0
            entries.append((used, _entry_size(folder), folder))
    total = sum(size for _, size, _ in entries)
    removed: list[Path] = []
    for _, size, folder in sorted(entries, key=lambda entry: entry[0]):
        if total <= max_bytes:
            break
        shutil.rmtree(folder, ignore_errors=True)
        total -= size
        removed.append(folder)
    return removed


class WriteBehind:
    """Cache writes that run in a thread while the next stage already works.

    A lookup of a key first waits for its pending write (:meth:`settle`); :meth:`flush`
    waits for all. A failed write is logged, never raised: the result it would have
    cached is still good, only the next run will be slower.
    """

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    def start(self, key: str, function: Callable[..., Any], *args: Any) -> None:
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(function, *args))
        self._tasks[key] = task

        def finished(done: asyncio.Task[Any]) -> None:
            if self._tasks.get(key) is done:
                del self._tasks[key]
            if not done.cancelled() and done.exception() is not None:
                log.warning("writing cache entry %s failed: %r", key, done.exception())

        task.add_done_callback(finished)

    async def settle(self, key: str) -> None:
        task = self._tasks.get(key)
        if task is not None:
            await asyncio.wait([task])

    async def flush(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()))
