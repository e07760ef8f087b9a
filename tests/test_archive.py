"""Voice archives (``parrot voices export`` / ``import``): what an export holds, what an
import makes of it, and every damaged, crafted or hostile archive refused with its reason
and nothing left behind. Their training part: test_archive_training."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store
from bot.store.models import Visibility, VoiceSource, VoiceStatus
from bot.store.voices import VoiceNameTakenError
from bot.voices.archive import (
    EXPORT_FORMAT,
    EXPORT_VERSION,
    MANIFEST_NAME,
    VoiceArchive,
    VoiceArchiveError,
)
from bot.voices.files import VoiceLibrary
from bot.voices.names import VoiceNameError
from tests.library_support import (  # the fixtures by their names: archives, data_dir, …
    all_files,
    archives_fixture,  # noqa: F401
    data_dir_fixture,  # noqa: F401
    fake_wav,
    library_fixture,  # noqa: F401
    make_voice,
    store_fixture,  # noqa: F401
    voice_folders,
)


def build_zip(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def manifest_for(samples: dict[str, bytes], **changes: Any) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "voice": {"name": "Crafted", "owner_id": 7, "guild_id": None, "visibility": "private"},
        "samples": [
            {
                "file": member,
                "original_name": "x.wav",
                "sha256": hashlib.sha256(data).hexdigest(),
                "duration_s": 1.0,
                "sample_rate": 8000,
            }
            for member, data in samples.items()
        ],
        "files": {},
    }
    manifest.update(changes)
    return manifest


def crafted_archive(
    path: Path,
    samples: dict[str, bytes],
    *,
    edit: Callable[[dict[str, Any]], None] | None = None,
    extra: dict[str, bytes] | None = None,
) -> Path:
    manifest = manifest_for(samples)
    if edit:
        edit(manifest)
    members: dict[str, bytes | str] = {MANIFEST_NAME: json.dumps(manifest)}
    members.update(samples)
    members.update(extra or {})
    return build_zip(path, members)


# names ------------------------------------------------------------------------------------
async def test_export_writes_a_complete_archive(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, tmp_path: Path
) -> None:
    voice = await make_voice(store, library, conditionals=True)
    progress: list[tuple[int, int]] = []
    destination = tmp_path / "out" / "alice.zip"
    assert await archives.export(voice, destination, lambda d, t: progress.append((d, t))) == (
        destination
    )
    assert [p.name for p in destination.parent.iterdir()] == ["alice.zip"]  # no temporaries

    samples = await store.voices.samples(voice.id)
    with zipfile.ZipFile(destination) as archive:
        manifest = json.loads(archive.read(MANIFEST_NAME))
        names = set(archive.namelist())
        for entry in manifest["samples"]:
            assert hashlib.sha256(archive.read(entry["file"])).hexdigest() == entry["sha256"]
        assert archive.read("conditionals.pt") == b"conditionals for " + voice.id.encode()
    assert manifest["format"] == EXPORT_FORMAT
    assert manifest["version"] == EXPORT_VERSION
    assert manifest["voice"]["name"] == "Alice"
    assert manifest["voice"]["owner_id"] == 100
    assert manifest["voice"]["visibility"] == "guild"
    assert manifest["voice"]["tts_model"] == "original"
    assert manifest["files"] == {"conditionals": "conditionals.pt"}
    assert names == {MANIFEST_NAME, "conditionals.pt"} | {f"samples/{s.id}.wav" for s in samples}
    assert [e["original_name"] for e in manifest["samples"]] == [s.original_name for s in samples]
    assert progress and progress[-1][0] == progress[-1][1]


async def test_export_with_missing_files_fails_cleanly(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, tmp_path: Path
) -> None:
    voice = await make_voice(store, library)
    next(iter((library.folder(voice.id) / "samples").iterdir())).unlink()
    destination = tmp_path / "out" / "broken.zip"
    with pytest.raises(FileNotFoundError, match="missing"):
        await archives.export(voice, destination)
    assert not destination.exists()


async def test_import_creates_a_new_pending_voice(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, tmp_path: Path
) -> None:
    original = await make_voice(store, library)
    archive = await archives.export(original, tmp_path / "alice.zip")
    progress: list[tuple[int, int]] = []

    copy = await archives.import_archive(
        archive, name="Copy", progress=lambda d, t: progress.append((d, t))
    )
    assert copy.id != original.id
    assert copy.name == "Copy"
    assert copy.owner_id == original.owner_id
    assert copy.guild_id == original.guild_id
    assert copy.visibility is original.visibility
    assert copy.source is VoiceSource.IMPORT
    assert copy.status is VoiceStatus.PENDING
    assert copy.conditionals is None
    assert copy.tts_model is None
    assert copy.consent_at == original.consent_at
    assert progress and progress[-1][0] == progress[-1][1]

    old_samples = await store.voices.samples(original.id)
    new_samples = await store.voices.samples(copy.id)
    assert len(new_samples) == 2
    assert {s.sha256 for s in new_samples} == {s.sha256 for s in old_samples}
    assert {s.original_name for s in new_samples} == {"take 0.mp3", "take 1.mp3"}
    assert not {s.id for s in new_samples} & {s.id for s in old_samples}
    for sample in new_samples:
        assert sample.path == f"voices/{copy.id}/samples/{sample.id}.wav"
        data = library.path(sample.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sample.sha256
    assert await store.db.integrity_check() == []


async def test_import_with_conditionals_is_ready(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, tmp_path: Path
) -> None:
    original = await make_voice(store, library, conditionals=True)
    archive = await archives.export(original, tmp_path / "alice.zip")
    copy = await archives.import_archive(archive, name="Ready Copy", owner_id=555)
    assert copy.status is VoiceStatus.READY
    assert copy.owner_id == 555
    assert copy.tts_model == "original"
    assert copy.conditionals == f"voices/{copy.id}/conditionals.pt"
    assert library.path(copy.conditionals).read_bytes() == (
        b"conditionals for " + original.id.encode()
    )


async def test_import_keeps_the_exported_name_when_free(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, tmp_path: Path
) -> None:
    original = await make_voice(store, library)
    archive = await archives.export(original, tmp_path / "alice.zip")
    # Same owner and same name: refused as a name clash, leaving nothing behind.
    folders = voice_folders(library)
    with pytest.raises(VoiceNameTakenError):
        await archives.import_archive(archive)
    assert voice_folders(library) == folders
    assert await store.voices.count() == 1
    # Another owner may hold the same name.
    copy = await archives.import_archive(archive, owner_id=999)
    assert copy.name == "Alice"
    assert copy.owner_id == 999


async def test_import_rejects_a_bad_name(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, tmp_path: Path
) -> None:
    original = await make_voice(store, library)
    archive = await archives.export(original, tmp_path / "alice.zip")
    with pytest.raises(VoiceNameError):
        await archives.import_archive(archive, name="../../escape")
    assert await store.voices.count() == 1


async def test_export_import_round_trip_of_a_voice_without_samples(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, tmp_path: Path
) -> None:
    original = await make_voice(store, library, samples=0)
    archive = await archives.export(original, tmp_path / "empty.zip")
    copy = await archives.import_archive(archive, name="Empty copy")
    assert await store.voices.samples(copy.id) == []


SAMPLE = fake_wav(seed=3)


def _break_format(m: dict[str, Any]) -> None:
    m["format"] = "something-else"


def _break_version(m: dict[str, Any]) -> None:
    m["version"] = 99


def _missing_member(m: dict[str, Any]) -> None:
    m["samples"][0]["file"] = "samples/not-there.wav"


def _unknown_file_key(m: dict[str, Any]) -> None:
    m["files"] = {"payload": "samples/a.wav"}


def _sample_without_checksum(m: dict[str, Any]) -> None:
    del m["samples"][0]["sha256"]


def _sample_not_an_object(m: dict[str, Any]) -> None:
    m["samples"] = ["samples/a.wav"]


def _no_voice_section(m: dict[str, Any]) -> None:
    del m["voice"]


def _samples_not_a_list(m: dict[str, Any]) -> None:
    m["samples"] = {"file": "samples/a.wav"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_break_format, "wrong format marker"),
        (_break_version, "version 99"),
        (_missing_member, "not in the archive"),
        (_unknown_file_key, "unknown files"),
        (_sample_without_checksum, "lacks sha256"),
        (_sample_not_an_object, "malformed"),
        (_no_voice_section, "voice or samples"),
        (_samples_not_a_list, "voice or samples"),
    ],
)
async def test_import_rejects_bad_manifests(
    store: Store,
    library: VoiceLibrary,
    archives: VoiceArchive,
    tmp_path: Path,
    edit: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    archive = crafted_archive(tmp_path / "bad.zip", {"samples/a.wav": SAMPLE}, edit=edit)
    with pytest.raises(VoiceArchiveError, match=message):
        await archives.import_archive(archive, name="Bad")
    assert voice_folders(library) == set()
    assert await store.voices.count() == 0


async def test_crafted_archive_imports(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, tmp_path: Path
) -> None:
    """The crafting helper itself makes a valid archive (so the rejections above are real)."""
    archive = crafted_archive(tmp_path / "good.zip", {"samples/a.wav": SAMPLE})
    voice = await archives.import_archive(archive)
    assert voice.name == "Crafted"
    assert voice.owner_id == 7
    assert voice.visibility is Visibility.PRIVATE


async def test_import_rejects_a_file_that_is_not_a_zip(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, tmp_path: Path
) -> None:
    archive = tmp_path / "voice.zip"
    archive.write_bytes(b"RIFF....WAVEfmt definitely not a zip")
    with pytest.raises(VoiceArchiveError, match="not a zip"):
        await archives.import_archive(archive)
    assert voice_folders(library) == set()


async def test_import_rejects_a_zip_without_a_manifest(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, tmp_path: Path
) -> None:
    archive = build_zip(tmp_path / "plain.zip", {"samples/a.wav": SAMPLE})
    with pytest.raises(VoiceArchiveError, match=f"no {MANIFEST_NAME}"):
        await archives.import_archive(archive)


@pytest.mark.parametrize("content", ["{not json", "[1, 2, 3]", '"a string"'])
async def test_import_rejects_a_manifest_that_is_not_an_object(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, tmp_path: Path, content: str
) -> None:
    archive = build_zip(tmp_path / "bad.zip", {MANIFEST_NAME: content})
    with pytest.raises(VoiceArchiveError):
        await archives.import_archive(archive)


async def test_checksum_mismatch_leaves_no_folder_and_no_rows(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, tmp_path: Path
) -> None:
    existing = await make_voice(store, library)
    before_files = all_files(library.voices_dir)

    def corrupt(m: dict[str, Any]) -> None:
        m["samples"][1]["sha256"] = "0" * 64

    archive = crafted_archive(
        tmp_path / "corrupt.zip",
        {"samples/a.wav": SAMPLE, "samples/b.wav": fake_wav(seed=9)},
        edit=corrupt,
    )
    with pytest.raises(VoiceArchiveError, match="checksum"):
        await archives.import_archive(archive, name="Corrupt")
    assert voice_folders(library) == {existing.id}
    assert all_files(library.voices_dir) == before_files
    assert await store.voices.count() == 1
    assert await store.db.fetch_value("SELECT COUNT(*) FROM voice_samples") == 2


async def test_member_names_are_never_used_as_paths(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, data_dir: Path, tmp_path: Path
) -> None:
    evil_sample = "../../../escaped-sample.wav"
    evil_conds = "/tmp/../escaped-conds.pt"
    conds_data = b"evil conditionals"

    def point_at_evil(m: dict[str, Any]) -> None:
        m["files"] = {"conditionals": evil_conds}
        m["voice"]["tts_model"] = "original"

    archive = crafted_archive(
        tmp_path / "evil.zip",
        {evil_sample: SAMPLE},
        edit=point_at_evil,
        extra={evil_conds: conds_data},
    )
    outside_before = all_files(tmp_path) - all_files(data_dir)

    voice = await archives.import_archive(archive, name="Evil")
    # Every file the import wrote is inside data/voices/<new id>/.
    outside_after = all_files(tmp_path) - all_files(data_dir)
    assert outside_after == outside_before
    folder = library.folder(voice.id).resolve()
    written = {p.resolve() for p in all_files(data_dir)} - {
        p.resolve() for p in data_dir.glob("parrot.db*")
    }
    assert written and all(p.is_relative_to(folder) for p in written)

    (sample,) = await store.voices.samples(voice.id)
    assert sample.path == f"voices/{voice.id}/samples/{sample.id}.wav"
    assert library.path(sample.path).read_bytes() == SAMPLE
    assert voice.conditionals == f"voices/{voice.id}/conditionals.pt"
    assert library.path(voice.conditionals).read_bytes() == conds_data


# delete ------------------------------------------------------------------------------------
