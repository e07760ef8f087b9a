"""Files sent to the cluster by content: read, hashed, put in the registry once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from engine.remote.messages import Blob
from engine.remote.registry import content_hash


class Publisher:
    def __init__(self, registry: Any) -> None:
        self._registry = registry
        self._published: set[str] = set()
        self._digests: dict[tuple[str, int, int], str] = {}
        """By (path, mtime, size): a file sent again is not read again."""

    async def blob(self, path: Path, suffix: str = "") -> Blob:
        """``path``'s content in the cluster (sent the first time); its hash from then on."""
        stat = await asyncio.to_thread(path.stat)
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        digest = self._digests.get(key)
        if digest is None or digest not in self._published:
            data = await asyncio.to_thread(path.read_bytes)
            digest = content_hash(data)
            if not await self._registry.has.remote(digest):
                await self._registry.put.remote(digest, data)
            self._digests[key] = digest
            self._published.add(digest)
        return Blob(digest, suffix)

    def forget(self) -> None:
        """After a replica missed a blob (the registry restarted): send everything again."""
        self._published.clear()
