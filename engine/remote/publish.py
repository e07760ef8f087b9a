"""Files sent to the cluster by content: read, hashed, put in the registry once.

A file larger than :data:`~engine.remote.messages.PIECE_BYTES` goes as pieces, each a blob
of its own, read one at a time: a 1.3 GB checkpoint never sits whole in the bot's memory.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any, BinaryIO

from engine.remote import messages
from engine.remote.messages import Blob
from engine.remote.registry import content_hash


class Publisher:
    def __init__(self, registry: Any, piece_bytes: int | None = None) -> None:
        self._registry = registry
        self._piece_bytes = piece_bytes or messages.PIECE_BYTES
        self._published: set[str] = set()
        self._blobs: dict[tuple[str, int, int], Blob] = {}
        """By (path, mtime, size): a file sent again is not read again."""

    async def blob(self, path: Path, suffix: str = "") -> Blob:
        """``path``'s content in the cluster (sent the first time); its hash from then on."""
        stat = await asyncio.to_thread(path.stat)
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        known = self._blobs.get(key)
        if known is not None and known.digest in self._published:
            return Blob(known.digest, suffix, known.pieces)
        if stat.st_size <= self._piece_bytes:
            data, digest = await asyncio.to_thread(_read_and_hash, path)
            blob = Blob(digest, suffix)
            await self._put(blob.digest, data)
        else:
            blob = await self._put_in_pieces(path, suffix)
        self._blobs[key] = blob
        self._published.add(blob.digest)
        return blob

    async def _put_in_pieces(self, path: Path, suffix: str) -> Blob:
        whole, size = hashlib.sha256(), self._piece_bytes
        pieces: list[str] = []
        handle: BinaryIO = await asyncio.to_thread(path.open, "rb")
        try:
            while True:
                data, digest = await asyncio.to_thread(_next_piece, handle, size, whole)
                if not data:
                    break
                pieces.append(digest)
                await self._put(digest, data)
        finally:
            handle.close()
        return Blob(whole.hexdigest(), suffix, tuple(pieces))

    async def _put(self, digest: str, data: bytes) -> None:
        if not await self._registry.has.remote(digest):
            await self._registry.put.remote(digest, data)

    def forget(self) -> None:
        """After a replica missed a blob (the registry restarted): send everything again."""
        self._published.clear()


def _read_and_hash(path: Path) -> tuple[bytes, str]:
    """A small file's bytes and hash (blocking: off the loop)."""
    data = path.read_bytes()
    return data, content_hash(data)


def _next_piece(handle: BinaryIO, size: int, whole: Any) -> tuple[bytes, str]:
    """The next piece and its hash, added to the whole file's (blocking: off the loop)."""
    data = handle.read(size)
    whole.update(data)
    return data, content_hash(data)
