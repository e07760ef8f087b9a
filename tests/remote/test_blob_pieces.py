"""Files larger than a piece go to the cluster in pieces and come out whole on a replica,
without a cluster: the registry is a test double with the actor's three methods. Neither
side handles more than a piece at a time, and a missing or damaged piece is a missing
blob (which makes the caller send everything again), never a partial file."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from engine.remote.cache import BlobCache
from engine.remote.errors import BlobMissingError
from engine.remote.messages import Blob
from engine.remote.publish import Publisher
from engine.remote.registry import content_hash

PIECE = 10_000


class Method:
    """An actor method as awaited here: ``await handle.method.remote(...)``."""

    def __init__(self, call: Callable[..., Awaitable[Any]]) -> None:
        self.remote = call


class RegistryDouble:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.largest_put = 0
        self.has = Method(self._has)
        self.put = Method(self._put)
        self.get = Method(self._get)

    async def _has(self, digest: str) -> bool:
        return digest in self.blobs

    async def _put(self, digest: str, data: bytes) -> None:
        assert content_hash(data) == digest
        self.largest_put = max(self.largest_put, len(data))
        self.blobs[digest] = data

    async def _get(self, digest: str) -> list[Awaitable[bytes]]:
        if digest not in self.blobs:
            return []
        return [self._ref(digest)]

    async def _ref(self, digest: str) -> bytes:
        return self.blobs[digest]


@pytest.fixture
def registry() -> RegistryDouble:
    return RegistryDouble()


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(os.urandom(4 * PIECE + 17))
    return path


async def test_a_large_file_travels_in_pieces_and_arrives_whole(
    registry: RegistryDouble, big_file: Path, tmp_path: Path
) -> None:
    blob = await Publisher(registry, piece_bytes=PIECE).blob(big_file, ".pt")
    assert blob.digest == content_hash(big_file.read_bytes())
    assert len(blob.pieces) == 5 and registry.largest_put == PIECE
    assert blob.digest not in registry.blobs  # only its pieces were sent

    cache = BlobCache(tmp_path / "replica", registry, max_bytes=10 * PIECE)
    copy = await cache.fetch(blob.digest, blob.suffix, blob.pieces)
    assert copy.name == f"{blob.digest}.pt" and copy.read_bytes() == big_file.read_bytes()
    registry.blobs.clear()
    assert await cache.fetch(blob.digest, blob.suffix, blob.pieces) == copy  # kept


async def test_a_small_file_is_one_blob(registry: RegistryDouble, tmp_path: Path) -> None:
    small = tmp_path / "conditionals.pt"
    small.write_bytes(b"c" * PIECE)
    blob = await Publisher(registry, piece_bytes=PIECE).blob(small)
    assert blob.pieces == () and registry.blobs == {blob.digest: small.read_bytes()}


async def test_a_file_sent_once_is_not_read_again_until_forgotten(
    registry: RegistryDouble, big_file: Path
) -> None:
    publisher = Publisher(registry, piece_bytes=PIECE)
    first = await publisher.blob(big_file)
    registry.blobs.clear()  # the registry lost it: only a replica's miss would tell
    assert await publisher.blob(big_file, ".pt") == Blob(first.digest, ".pt", first.pieces)
    assert registry.blobs == {}
    publisher.forget()
    await publisher.blob(big_file)
    assert set(registry.blobs) == set(first.pieces)


@pytest.mark.parametrize("damage", ["missing", "wrong"])
async def test_a_missing_or_damaged_piece_leaves_no_file(
    registry: RegistryDouble, big_file: Path, tmp_path: Path, damage: str
) -> None:
    blob = await Publisher(registry, piece_bytes=PIECE).blob(big_file)
    last = blob.pieces[-1]
    if damage == "missing":
        del registry.blobs[last]
    else:
        registry.blobs[last] = b"x" * 17  # another file's piece under that name
    folder = tmp_path / "replica"
    with pytest.raises(BlobMissingError):
        await BlobCache(folder, registry, max_bytes=10 * PIECE).fetch(blob.digest, "", blob.pieces)
    assert list(folder.iterdir()) == []
