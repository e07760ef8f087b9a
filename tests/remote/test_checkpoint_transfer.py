"""A training's files travel from a replica to the caller in pieces (no cluster needed):
a checkpoint arrives whole and byte for byte, the kept one is replaced only by a whole
newer one, the model and index are placed when the training is done, and a transfer cut
short leaves the kept checkpoint and no stray file behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.files import atomic_write_bytes
from engine.remote import messages
from engine.remote.messages import TrainingFile, TrainingFilePiece
from engine.remote.pieces import PiecesOutOfOrderError
from engine.remote.training import (
    CheckpointWatch,
    TrainingReceiver,
    checkpoints_in,
    result_pieces,
)
from engine.training.checkpoints import checkpoint_path, checkpoint_set
from engine.training.progress import TrainedModel

PIECE = 7_000


def write_checkpoint(folder: Path, data: bytes, source_hash: str = "set-a") -> None:
    """As a training run writes one: the file replaced whole, then its set's marker."""
    atomic_write_bytes(checkpoint_path(folder), data)
    atomic_write_bytes(folder / "checkpoint.set", source_hash.encode())


async def sent_parts(watch: CheckpointWatch) -> list[TrainingFilePiece]:
    return [part async for part in watch.pieces_due()]


def checkpoint_piece(source_hash: str, offset: int, data: bytes, size: int) -> TrainingFilePiece:
    return TrainingFilePiece(TrainingFile.CHECKPOINT, offset, data, size, source_hash)


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
    assert {part.size for part in parts} == {len(data)}
    receiver = TrainingReceiver(caller, caller / "out")
    for part in parts[:-1]:
        receiver.accept(part)
        assert not checkpoint_path(checkpoints_in(caller)).exists()  # not before it is whole
    receiver.accept(parts[-1])
    assert checkpoint_path(checkpoints_in(caller)).read_bytes() == data
    assert checkpoint_set(checkpoints_in(caller)) == "set-a"
    assert leftovers(checkpoints_in(caller)) == []
    assert await sent_parts(watch) == []  # the same checkpoint is not sent twice


async def test_a_checkpoint_replaced_mid_transfer_is_sent_as_it_was(replica: Path) -> None:
    watch = CheckpointWatch(replica, every_s=0.0, piece_bytes=PIECE)
    older, newer = os.urandom(3 * PIECE), os.urandom(2 * PIECE)
    write_checkpoint(replica, older)
    parts = watch.pieces_due()
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
    receiver = TrainingReceiver(caller, caller / "out")
    receiver.accept(checkpoint_piece("set-a", 0, kept_data, len(kept_data)))
    folder = checkpoints_in(caller)

    receiver.accept(checkpoint_piece("set-a", 0, b"x" * PIECE, 3 * PIECE))
    receiver.discard()  # the replica was lost after one piece
    assert checkpoint_path(folder).read_bytes() == kept_data
    assert leftovers(folder) == []


def test_a_piece_out_of_order_drops_that_checkpoint_only(caller: Path) -> None:
    receiver = TrainingReceiver(caller, caller / "out")
    folder = checkpoints_in(caller)
    receiver.accept(checkpoint_piece("set-a", 0, b"a" * PIECE, 3 * PIECE))
    receiver.accept(checkpoint_piece("set-a", 2 * PIECE, b"c", 3 * PIECE))  # dropped, logged
    assert not checkpoint_path(folder).exists() and leftovers(folder) == []
    # The next checkpoint starts over at offset 0 and is kept.
    whole = b"n" * (PIECE + 1)
    receiver.accept(checkpoint_piece("set-b", 0, whole[:PIECE], len(whole)))
    receiver.accept(checkpoint_piece("set-b", PIECE, whole[PIECE:], len(whole)))
    assert checkpoint_path(folder).read_bytes() == whole
    assert checkpoint_set(folder) == "set-b"


async def test_the_trained_files_are_placed_when_the_training_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(messages, "PIECE_BYTES", PIECE)
    on_replica = tmp_path / "replica"
    on_replica.mkdir()
    model, index = on_replica / "voice.pth", on_replica / "voice.index"
    model.write_bytes(os.urandom(2 * PIECE + 5))
    index.write_bytes(b"")  # an empty file still arrives (as one empty piece)
    result = TrainedModel(model, index, epochs=3, seconds_of_audio=4.0)
    pieces = [piece async for piece in result_pieces(result)]
    assert [piece.file for piece in pieces] == [TrainingFile.MODEL] * 3 + [TrainingFile.INDEX]

    out = tmp_path / "out"
    receiver = TrainingReceiver(tmp_path / "work", out)
    for piece in pieces:
        receiver.accept(piece)
    assert list(out.iterdir()) != [] and not (out / "voice.pth").exists()  # not yet placed
    placed = receiver.finish(result)
    assert placed.model == out / "voice.pth" and placed.index == out / "voice.index"
    assert placed.model.read_bytes() == model.read_bytes() and placed.index.read_bytes() == b""
    assert leftovers(out) == [] and placed.epochs == 3


async def test_a_training_lost_before_it_was_done_leaves_no_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    receiver = TrainingReceiver(tmp_path / "work", out)
    receiver.accept(TrainingFilePiece(TrainingFile.MODEL, 0, b"m" * PIECE, 3 * PIECE))
    with pytest.raises(PiecesOutOfOrderError):  # a model piece missing is not skipped over
        receiver.accept(TrainingFilePiece(TrainingFile.MODEL, 2 * PIECE, b"m", 3 * PIECE))
    receiver.accept(TrainingFilePiece(TrainingFile.INDEX, 0, b"i" * PIECE, 2 * PIECE))
    receiver.discard()  # the stream ended
    assert list(out.iterdir()) == []
