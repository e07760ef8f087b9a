"""Crash-safe writes: the target is either the old file or the complete new one."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.files import (
    TEMP_PREFIX,
    atomic_copy,
    atomic_path,
    atomic_write_bytes,
    atomic_writer,
    remove_stale_temporaries,
)


class Interrupted(Exception):
    pass


def leftovers(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{TEMP_PREFIX}*"))


def test_atomic_write_bytes_creates_parents_and_writes(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.bin"
    atomic_write_bytes(target, b"hello")
    assert target.read_bytes() == b"hello"
    assert leftovers(target.parent) == []


def test_atomic_write_bytes_replaces_existing_content(tmp_path: Path) -> None:
    target = tmp_path / "file.bin"
    target.write_bytes(b"old content that is longer")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert leftovers(tmp_path) == []


def test_atomic_writer_target_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.wav"
    with atomic_writer(target) as handle:
        handle.write(b"part one ")
        assert not target.exists()
        (temp,) = leftovers(tmp_path)
        assert temp.suffix == ".wav"  # libraries that sniff the suffix still work
        handle.write(b"part two")
    assert target.read_bytes() == b"part one part two"
    assert leftovers(tmp_path) == []


def test_atomic_writer_keeps_old_content_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(Interrupted), atomic_writer(target) as handle:
        handle.write(b"half of the new")
        raise Interrupted
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_atomic_writer_error_leaves_no_target(tmp_path: Path) -> None:
    target = tmp_path / "folder" / "never.bin"
    with pytest.raises(Interrupted), atomic_writer(target) as handle:
        handle.write(b"x")
        raise Interrupted
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_atomic_writer_survives_keyboard_interrupt(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_writer(target):
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_atomic_path_renames_on_success(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "model.pt"
    with atomic_path(target) as temp:
        assert temp.parent == target.parent
        assert temp.name.startswith(TEMP_PREFIX)
        assert temp.suffix == ".pt"
        temp.write_bytes(b"weights")
        assert not target.exists()
    assert target.read_bytes() == b"weights"
    assert leftovers(target.parent) == []


def test_atomic_path_keeps_old_content_on_error(tmp_path: Path) -> None:
    target = tmp_path / "model.pt"
    target.write_bytes(b"old weights")
    with pytest.raises(Interrupted), atomic_path(target) as temp:
        temp.write_bytes(b"partial")
        raise Interrupted
    assert target.read_bytes() == b"old weights"
    assert leftovers(tmp_path) == []


def test_atomic_path_error_before_writing_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "folder" / "model.pt"
    with pytest.raises(Interrupted), atomic_path(target):
        raise Interrupted
    assert list(target.parent.iterdir()) == []


def test_atomic_path_when_the_writer_removed_the_temp(tmp_path: Path) -> None:
    target = tmp_path / "model.pt"
    target.write_bytes(b"old")
    with pytest.raises(FileNotFoundError), atomic_path(target) as temp:
        temp.unlink()
    assert target.read_bytes() == b"old"


def test_atomic_copy(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    data = bytes(range(256)) * 9000  # more than one copy block
    source.write_bytes(data)
    destination = tmp_path / "copies" / "dest.bin"
    atomic_copy(source, destination)
    assert destination.read_bytes() == data
    assert source.read_bytes() == data
    assert leftovers(destination.parent) == []


def test_atomic_copy_of_a_missing_source_leaves_nothing(tmp_path: Path) -> None:
    destination = tmp_path / "dest.bin"
    destination.write_bytes(b"old")
    with pytest.raises(FileNotFoundError):
        atomic_copy(tmp_path / "missing.bin", destination)
    assert destination.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_remove_stale_temporaries(tmp_path: Path) -> None:
    (tmp_path / "voices" / "abc" / "samples").mkdir(parents=True)
    stale = [
        tmp_path / f"{TEMP_PREFIX}top.bin",
        tmp_path / "voices" / "abc" / f"{TEMP_PREFIX}x1.pt",
        tmp_path / "voices" / "abc" / "samples" / f"{TEMP_PREFIX}y2.wav",
    ]
    keep = [
        tmp_path / "parrot.db",
        tmp_path / "voices" / "abc" / "conds.pt",
        tmp_path / "voices" / "abc" / "samples" / "s.wav",
        tmp_path / "voices" / "abc" / "samples" / "not.tmp-file.wav",
    ]
    for path in stale + keep:
        path.write_bytes(b"x")
    # A folder that happens to carry the prefix is not a stale file.
    (tmp_path / f"{TEMP_PREFIX}folder").mkdir()

    removed = remove_stale_temporaries(tmp_path)
    assert sorted(removed) == sorted(stale)
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in keep)
    assert (tmp_path / f"{TEMP_PREFIX}folder").is_dir()
    assert remove_stale_temporaries(tmp_path) == []


def test_remove_stale_temporaries_of_a_missing_root(tmp_path: Path) -> None:
    assert remove_stale_temporaries(tmp_path / "nope") == []


def test_interrupted_write_leftover_is_swept(tmp_path: Path) -> None:
    """Simulate a crash: the temporary exists but the rename never happened."""
    target = tmp_path / "data" / "out.bin"
    writer = atomic_writer(target)
    handle = writer.__enter__()
    handle.write(b"never finished")
    handle.flush()
    (temp,) = leftovers(target.parent)
    # The process "dies" here: close the handle without running the context exit.
    handle.close()
    assert temp.exists() and not target.exists()
    assert remove_stale_temporaries(tmp_path) == [temp]
    assert list(target.parent.iterdir()) == []
