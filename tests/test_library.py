"""Voices on disk and in the database together: delete, sweep, names (archives: test_archive)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.audit import AuditAction, Who
from bot.store.migrations import MigrationError
from bot.store.voices import VoiceNameTakenError
from bot.usage import SinceError
from bot.voices.archive import (
    VoiceArchiveError,
)
from bot.voices.files import STALE_AFTER_S, VoiceLibrary
from bot.voices.names import VoiceNameError, check_voice_name
from bot.voices.removal import delete_voice
from engine.errors import ParrotError, as_sentence
from engine.files import TEMP_PREFIX
from tests.library_support import (  # the fixtures by their names: data_dir, library, store
    all_files,
    data_dir_fixture,  # noqa: F401
    fake_wav,
    library_fixture,  # noqa: F401
    make_voice,
    store_fixture,  # noqa: F401
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Alice", "Alice"),
        ("  Bob  ", "Bob"),
        ("Zoë", "Zoë"),
        ("O'Brien", "O'Brien"),
        ("dj-mix_2.0", "dj-mix_2.0"),
        ("Mr. Smith Jr", "Mr. Smith Jr"),
        ("_under", "_under"),
        ("7", "7"),
        ("x" * 32, "x" * 32),
    ],
)
def test_check_voice_name_accepts(raw: str, expected: str) -> None:
    assert check_voice_name(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "x" * 33,
        "a/b",
        "../etc",
        "-dash",
        ".hidden",
        "two\nlines",
        "tab\there",
        "a:b",
        "smile 🙂",
        "<@123>",
        "back\\slash",
    ],
)
def test_check_voice_name_rejects(raw: str) -> None:
    with pytest.raises(VoiceNameError, match="1 to 32 characters"):
        check_voice_name(raw)


# paths -------------------------------------------------------------------------------------
def test_paths_stay_inside_the_data_dir(library: VoiceLibrary, data_dir: Path) -> None:
    assert library.folder("abc") == data_dir / "voices" / "abc"
    inside = library.path("voices/abc/samples/s.wav")
    assert inside == (data_dir / "voices/abc/samples/s.wav").resolve()
    assert library.relative(inside) == "voices/abc/samples/s.wav"
    for outside in ("../outside.wav", "/etc/passwd", "voices/../../x"):
        with pytest.raises(ValueError, match="outside the data directory"):
            library.path(outside)


# export / import --------------------------------------------------------------------------
async def test_delete_removes_rows_then_files(store: Store, library: VoiceLibrary) -> None:
    doomed = await make_voice(store, library, "Doomed", conditionals=True)
    kept = await make_voice(store, library, "Kept")
    assert await delete_voice(store, library, doomed, Who.cli())
    assert await store.voices.get(doomed.id) is None
    assert await store.voices.samples(doomed.id) == []
    assert not library.folder(doomed.id).exists()
    assert library.folder(kept.id).is_dir()
    assert len(await store.voices.samples(kept.id)) == 2
    (entry,) = await store.audit.entries(voice_id=doomed.id)
    assert entry.action is AuditAction.DELETE and entry.voice_name == "Doomed"


async def test_delete_of_a_voice_without_a_folder(store: Store, library: VoiceLibrary) -> None:
    voice = await make_voice(store, library, samples=0)
    assert not library.folder(voice.id).exists()
    assert await delete_voice(store, library, voice, Who.cli())
    assert await store.voices.count() == 0
    assert not await delete_voice(store, library, voice, Who.cli())  # already gone


# sweep --------------------------------------------------------------------------------------
async def test_sweep_removes_orphans_and_temporaries(
    store: Store, library: VoiceLibrary, data_dir: Path
) -> None:
    known = await make_voice(store, library)
    orphan = library.voices_dir / "deadbeefdeadbeef"
    (orphan / "samples").mkdir(parents=True)
    (orphan / "samples" / "s.wav").write_bytes(fake_wav(seed=3))
    stray_file = library.voices_dir / "notes.txt"  # a file, not a voice folder: left alone
    stray_file.write_text("hello")
    temp_in_voice = library.folder(known.id) / f"{TEMP_PREFIX}abc.wav"
    temp_in_voice.write_bytes(b"partial")
    temp_in_cache = data_dir / "cache" / f"{TEMP_PREFIX}x.bin"
    temp_in_cache.parent.mkdir(parents=True)
    temp_in_cache.write_bytes(b"partial")
    for temp in (temp_in_voice, temp_in_cache):  # left by a crash a while ago
        os.utime(temp, (time.time() - STALE_AFTER_S - 60,) * 2)
    fresh_temp = library.folder(known.id) / f"{TEMP_PREFIX}being-written.pt"
    fresh_temp.write_bytes(b"another process is writing this right now")
    known_files = all_files(library.folder(known.id)) - {temp_in_voice}

    report = await library.sweep()
    assert report.orphan_folders == [orphan]
    assert sorted(report.stale_temporaries) == sorted([temp_in_voice, temp_in_cache])
    assert not orphan.exists()
    assert not temp_in_voice.exists() and not temp_in_cache.exists()
    assert stray_file.exists()
    assert all_files(library.folder(known.id)) == known_files
    assert (data_dir / "parrot.db").exists()
    assert await store.voices.count() == 1

    again = await library.sweep()
    assert again.orphan_folders == [] and again.stale_temporaries == []


async def test_sweep_of_an_empty_data_dir(library: VoiceLibrary) -> None:
    report = await library.sweep()
    assert report.orphan_folders == []
    assert report.stale_temporaries == []


# errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (VoiceNameError("voice names are 1 to 32 characters"), ValueError),
        (VoiceNameTakenError("a voice named 'Alice' already exists"), ValueError),
        (VoiceArchiveError("not a zip file: bad magic"), ValueError),
        (MigrationError("migration 0002_presets failed: boom"), RuntimeError),
        (SinceError("--since 'x' is not a date"), ValueError),
    ],
)
def test_failures_people_can_act_on_are_parrot_errors(
    error: ParrotError, builtin: type[Exception]
) -> None:
    assert isinstance(error, ParrotError) and isinstance(error, builtin)
    assert error.for_operator() == str(error)
    assert error.for_member() == as_sentence(str(error))
    assert error.exit_code == 1
