"""The cluster's small shared memory: voice data by content hash, and what each replica holds.

One named, detached actor per cluster. Blobs (conditionals, reference audio, songs,
singing models) are ``ray.put`` by this actor, so they outlive the bot process that sent
them; replicas fetch one once by hash and keep their own copy (:mod:`engine.remote.cache`).
Replicas also post a report of themselves every few seconds, which ``parrot workers``
and ``parrot doctor`` read.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any

import ray

REGISTRY_NAME = "parrot-registry"
NAMESPACE = "parrot"
DEFAULT_MAX_BYTES = 4 * 1024**3
"""Blobs kept before the least recently used go (Ray spills large objects to disk)."""


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Registry:
    """Blob references by hash (LRU by bytes) and the latest report of each replica."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._max_bytes = max_bytes
        self._blobs: OrderedDict[str, tuple[ray.ObjectRef[bytes], int]] = OrderedDict()
        self._bytes = 0
        self._reports: dict[str, tuple[float, dict[str, Any]]] = {}

    # blobs ------------------------------------------------------------------------------
    def has(self, digest: str) -> bool:
        return digest in self._blobs

    def put(self, digest: str, data: bytes) -> None:
        if digest in self._blobs:
            self._blobs.move_to_end(digest)
            return
        if content_hash(data) != digest:
            raise ValueError("the blob does not match its hash")
        self._blobs[digest] = (ray.put(data), len(data))
        self._bytes += len(data)
        while self._bytes > self._max_bytes and len(self._blobs) > 1:
            _, (_, size) = self._blobs.popitem(last=False)
            self._bytes -= size

    def get(self, digest: str) -> list[ray.ObjectRef[bytes]]:
        """``[ref]`` (a list, so that Ray hands over the reference, not the bytes), or ``[]``."""
        entry = self._blobs.get(digest)
        if entry is None:
            return []
        self._blobs.move_to_end(digest)
        return [entry[0]]

    # replica reports --------------------------------------------------------------------
    def report(self, replica: str, state: dict[str, Any]) -> None:
        self._reports[replica] = (time.time(), state)

    def forget(self, replica: str) -> None:
        self._reports.pop(replica, None)

    def reports(self, max_age_s: float) -> list[dict[str, Any]]:
        """The replicas heard from within ``max_age_s`` (older ones are taken for gone)."""
        now = time.time()
        for replica, (when, _) in list(self._reports.items()):
            if now - when > 10 * max_age_s:
                del self._reports[replica]
        return [
            {**state, "age_s": now - when}
            for when, state in self._reports.values()
            if now - when <= max_age_s
        ]


def registry() -> Any:
    """The cluster's registry actor, created on first use (Ray must be initialised)."""
    actor = ray.remote(num_cpus=0, max_restarts=-1)(Registry)
    return actor.options(
        name=REGISTRY_NAME, namespace=NAMESPACE, lifetime="detached", get_if_exists=True
    ).remote()
