"""The cover stages' cache: one keyed store per stage, written behind the next stage.

Entries live in :class:`engine.separate.cache.StageCache` folders; a lookup first waits
for a pending write of the same key, and :meth:`CoverStageCache.flush` waits for all, so
every entry is on disk before a cover returns.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from engine.separate.cache import StageCache, WriteBehind
from engine.separate.stems import Track

COVERS = "covers"
"""The finished files' cache."""


class CoverStageCache:
    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._stages: dict[str, StageCache] = {}
        self._writes = WriteBehind()

    def stage(self, name: str) -> StageCache:
        """The store of one stage, e.g. ``stage("vocals")``."""
        if name not in self._stages:
            self._stages[name] = StageCache(self.cache_dir, name)
        return self._stages[name]

    async def fetch(self, name: str, key: str, track: str) -> tuple[Track, dict[str, Any]] | None:
        """The entry's track and metadata, once any pending write of it is done."""
        await self._writes.settle(key)
        found = await asyncio.to_thread(self.stage(name).load_entry, key, [track])
        if found is None:
            return None
        tracks, metadata = found
        return tracks[track], metadata

    def keep(self, name: str, key: str, track: str, value: Track, metadata: dict[str, Any]) -> None:
        """Store the entry in a thread while the caller goes on."""
        self._writes.start(key, self.stage(name).store, key, {track: value}, metadata)

    async def flush(self) -> None:
        await self._writes.flush()
