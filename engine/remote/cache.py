"""A replica's own copy of the blobs it was asked for: fetched once by hash, kept on its
local disk, least recently used dropped beyond a size."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any

from engine.files import atomic_write_bytes
from engine.remote.errors import BlobMissingError
from engine.remote.pieces import PieceWriter


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

    async def fetch(self, digest: str, suffix: str = "", pieces: tuple[str, ...] = ()) -> Path:
        """The blob's file here (named by hash, with ``suffix`` for readers that look at
        it), fetched from the registry the first time: whole, or piece by piece."""
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
            if pieces:
                await self._assemble(path, digest, pieces)
            else:
                await asyncio.to_thread(atomic_write_bytes, path, await self._piece(digest))
            await asyncio.to_thread(self._trim)
            future.set_result(path)
            return path
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            del self._fetching[path.name]

    async def _piece(self, digest: str) -> bytes:
        refs = await self._registry.get.remote(digest)
        if not refs:
            raise BlobMissingError(f"the cluster no longer holds blob {digest[:12]}")
        data: bytes = await refs[0]
        return data

    async def _assemble(self, path: Path, digest: str, pieces: tuple[str, ...]) -> None:
        """Write the pieces in order, one in memory at a time and every write off the event
        loop (a replica's loop streams speech); the file appears only whole and matching
        ``digest``."""
        writer = await asyncio.to_thread(PieceWriter, self.folder, path.suffix)
        whole = hashlib.sha256()
        try:
            for piece in pieces:
                await asyncio.to_thread(_append, writer, whole, await self._piece(piece))
            await asyncio.to_thread(writer.finish)
            if whole.hexdigest() != digest:
                raise BlobMissingError(f"the cluster's pieces of blob {digest[:12]} do not match")
            await asyncio.to_thread(writer.place, path)
        finally:
            await asyncio.shield(asyncio.to_thread(writer.discard))

    def _trim(self) -> None:
        files = [(entry.stat().st_mtime, entry) for entry in self.folder.iterdir()]
        total = sum(entry.stat().st_size for _, entry in files)
        for _, entry in sorted(files, key=lambda item: item[0]):
            if total <= self._max_bytes:
                break
            total -= entry.stat().st_size
            entry.unlink(missing_ok=True)


def _append(writer: PieceWriter, whole: Any, data: bytes) -> None:
    """Write a piece and hash it (tens of ms for a large piece: never on the loop)."""
    writer.append(data)
    whole.update(data)
