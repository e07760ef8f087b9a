"""A replica's own copy of the blobs it was asked for: fetched once by hash, kept on its
local disk, least recently used dropped beyond a size."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

from engine.files import atomic_write_bytes
from engine.remote.errors import BlobMissingError


class BlobCache:
    def __init__(self, folder: Path, registry: Any, max_bytes: int) -> None:
        self.folder = folder
        self._registry = registry
        self._max_bytes = max_bytes
        self._fetching: dict[str, asyncio.Future[Path]] = {}
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str, suffix: str = "") -> Path:
        if not digest.isalnum() or not (suffix == "" or suffix[1:].isalnum()):
            raise ValueError(f"not a content hash and suffix: {digest!r} {suffix!r}")
        return self.folder / f"{digest}{suffix}"

    async def fetch(self, digest: str, suffix: str = "") -> Path:
        """The blob's file here (named by hash, with ``suffix`` for readers that look at
        it), fetched from the registry the first time."""
        path = self.path(digest, suffix)
        if path.is_file():
            with contextlib.suppress(OSError):
                os.utime(path)  # most recently used
            return path
        pending = self._fetching.get(path.name)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
        self._fetching[path.name] = future
        try:
            refs = await self._registry.get.remote(digest)
            if not refs:
                raise BlobMissingError(f"the cluster no longer holds blob {digest[:12]}")
            data: bytes = await refs[0]
            await asyncio.to_thread(atomic_write_bytes, path, data)
            await asyncio.to_thread(self._trim)
            future.set_result(path)
            return path
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            del self._fetching[path.name]

    def _trim(self) -> None:
        files = [(entry.stat().st_mtime, entry) for entry in self.folder.iterdir()]
        total = sum(entry.stat().st_size for _, entry in files)
        for _, entry in sorted(files, key=lambda item: item[0]):
            if total <= self._max_bytes:
                break
            total -= entry.stat().st_size
            entry.unlink(missing_ok=True)
