"""A training's checkpoint travels from a replica to the caller in pieces (no cluster
needed): it arrives whole and byte for byte, the kept one is replaced only by a whole
newer one, and a transfer cut short leaves the kept one and no stray file behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.files import atomic_write_bytes
from engine.remote.messages import TrainingCheckpointPart
from engine.remote.training import CheckpointReceiver, CheckpointWatch, checkpoints_in
from engine.training.checkpoints import checkpoint_path, checkpoint_set

PIECE = 7_000


def write_checkpoint(folder: Path, data: bytes, source_hash: str = "set-a") -> None:
    """As a training run writes one: the file replaced whole, then its set's marker."""
    atomic_write_bytes(checkpoint_path(folder), data)
    atomic_write_bytes(folder / "checkpoint.set", source_hash.encode())


async def sent_parts(watch: CheckpointWatch) -> list[TrainingCheckpointPart]:
    return [part async for part in watch.parts_due()]


@pytest.fixture
def replica(tmp_path: Path) -> Path:
    folder = checkpoints_in(tmp_path / "replica")
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def caller(tmp_path: Path) -> Path:
    return tmp_path / "caller"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp-"))


async def test_a_checkpoint_arrives_whole_in_pieces(replica: Path, caller: Path) -> None:
    watch = CheckpointWatch(replica, every_s=0.0, piece_bytes=PIECE)
    assert await sent_parts(watch) == []  # nothing written yet
    data = os.urandom(5 * PIECE + 123)
    write_checkpoint(replica, data)

    parts = await sent_parts(watch)
    assert [len(part.data) for part in parts] == [PIECE] * 5 + [123]
    assert [part.last for part in parts] == [False] * 5 + [True]
    receiver = CheckpointReceiver(caller)
    kept = [receiver.accept(part) for part in parts]
    assert kept[:-1] == [None] * 5 and kept[-1] == checkpoint_path(checkpoints_in(caller))
    assert kept[-1].read_bytes() == data
    assert checkpoint_set(checkpoints_in(caller)) == "set-a"
    assert leftovers(checkpoints_in(caller)) == []
    assert await sent_parts(watch) == []  # the same checkpoint is not sent twice


async def test_a_checkpoint_replaced_mid_transfer_is_sent_as_it_was(replica: Path) -> None:
    watch = CheckpointWatch(replica, every_s=0.0, piece_bytes=PIECE)
    older, newer = os.urandom(3 * PIECE), os.urandom(2 * PIECE)
    write_checkpoint(replica, older)
    parts = watch.parts_due()
    first = await anext(parts)
    write_checkpoint(replica, newer)  # the run saved again meanwhile
    rest = [part async for part in parts]
    assert first.data + b"".join(part.data for part in rest) == older
    assert b"".join(part.data for part in await sent_parts(watch)) == newer


async def test_a_checkpoint_the_caller_sent_is_not_sent_back(replica: Path) -> None:
    write_checkpoint(replica, os.urandom(PIECE))
    watch = CheckpointWatch(replica, every_s=0.0, piece_bytes=PIECE)
    assert await sent_parts(watch) == []


async def test_uploads_are_spaced_by_the_interval(replica: Path) -> None:
    watch = CheckpointWatch(replica, every_s=3600.0, piece_bytes=PIECE)
    write_checkpoint(replica, os.urandom(PIECE))
    assert len(await sent_parts(watch)) == 1  # the first at once
    write_checkpoint(replica, os.urandom(2 * PIECE))
    assert await sent_parts(watch) == []  # the next one waits for the interval


def test_a_transfer_cut_short_keeps_the_kept_checkpoint(caller: Path) -> None:
    kept_data = os.urandom(PIECE)
    receiver = CheckpointReceiver(caller)
    receiver.accept(TrainingCheckpointPart("set-a", 0, kept_data, len(kept_data)))
    folder = checkpoints_in(caller)

    receiver.accept(TrainingCheckpointPart("set-a", 0, b"x" * PIECE, 3 * PIECE))
    receiver.discard()  # the replica was lost after one piece
    assert checkpoint_path(folder).read_bytes() == kept_data
    assert leftovers(folder) == []


def test_a_piece_out_of_order_drops_that_checkpoint_only(caller: Path) -> None:
    receiver = CheckpointReceiver(caller)
    folder = checkpoints_in(caller)
    receiver.accept(TrainingCheckpointPart("set-a", 0, b"a" * PIECE, 3 * PIECE))
    assert receiver.accept(TrainingCheckpointPart("set-a", 2 * PIECE, b"c", 3 * PIECE)) is None
    assert not checkpoint_path(folder).exists() and leftovers(folder) == []
    # The next checkpoint starts over at offset 0 and is kept.
    whole = b"n" * (PIECE + 1)
    receiver.accept(TrainingCheckpointPart("set-b", 0, whole[:PIECE], len(whole)))
    receiver.accept(TrainingCheckpointPart("set-b", PIECE, whole[PIECE:], len(whole)))
    assert checkpoint_path(folder).read_bytes() == whole
    assert checkpoint_set(folder) == "set-b"
