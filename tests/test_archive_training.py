"""Voice archives carry the training data: the samples' full-rate training copies, the
training recordings and the trained-model record; hostile training parts leave nothing."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store
from bot.store.models import Consent, ConsentPath, Voice
from bot.store.training import TrainingRecording, TrainingRepository
from bot.store.voices import new_id
from bot.training.data import sample_copy_path, trained_singer, training_audio_dir
from bot.voices import archive as archive_module
from bot.voices.archive import MANIFEST_NAME, VoiceArchive, VoiceArchiveError
from bot.voices.files import VoiceLibrary
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

SPOKEN = Consent("2026-05-06T07:08:09+00:00", ConsentPath.DISCORD)
TYPED = Consent("2026-06-07T08:09:10+00:00", ConsentPath.CLI)


async def trained_voice(store: Store, library: VoiceLibrary, *, replaced: bool = False) -> Voice:
    """A ready voice with training copies of its two samples, two training recordings and
    a trained RVC model (``replaced``: an uploaded model sings since, not the trained one)."""
    voice = await make_voice(store, library, conditionals=True)
    for index, sample in enumerate(await store.voices.samples(voice.id)):
        copy = sample_copy_path(library, voice.id, sample.id)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(fake_wav(0.2, 48_000, seed=10 + index))
    repository = TrainingRepository(store.db)
    for index, consent in enumerate((SPOKEN, TYPED)):
        recording_id = new_id()
        path = training_audio_dir(library, voice.id) / f"{recording_id}.wav"
        path.write_bytes(fake_wav(1.0, 44_100, seed=20 + index))
        await repository.add_recording(
            recording_id=recording_id,
            voice_id=voice.id,
            path=library.relative(path),
            original_name=f"song {index}.flac",
            sha256=hashlib.sha256(b"checked %d" % index).hexdigest(),
            duration_s=1.0,
            sample_rate=44_100,
            consent=consent,
        )
    trained = library.folder(voice.id) / "trained.pth"
    trained.write_bytes(b"a trained RVC model")
    await repository.set_trained_model(
        voice.id,
        rvc_model=library.relative(trained),
        epochs=40,
        seconds_of_audio=123.5,
        job_id="job-1",
    )
    model = trained
    if replaced:
        model = library.folder(voice.id) / "uploaded.pth"
        model.write_bytes(b"an uploaded RVC model")
    await store.voices.set_singing_model(voice.id, library.relative(model))
    found = await store.voices.get(voice.id)
    assert found is not None
    return found


def rewritten(
    source: Path,
    target: Path,
    manifest_edit: Callable[[dict[str, Any]], None],
    members_edit: Callable[[dict[str, bytes]], None] | None = None,
) -> Path:
    """A copy of an archive with its manifest (and members) edited."""
    with zipfile.ZipFile(source) as archive:
        manifest = json.loads(archive.read(MANIFEST_NAME))
        members = {name: archive.read(name) for name in archive.namelist() if name != MANIFEST_NAME}
    manifest_edit(manifest)
    if members_edit:
        members_edit(members)
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(MANIFEST_NAME, json.dumps(manifest))
        for name, data in members.items():
            archive.writestr(name, data)
    return target


async def counts(store: Store) -> tuple[int, int, int]:
    return (
        await store.voices.count(),
        await store.db.fetch_value("SELECT COUNT(*) FROM training_recordings"),
        await store.db.fetch_value("SELECT COUNT(*) FROM trained_models"),
    )


def without_ids(recording: TrainingRecording) -> TrainingRecording:
    return replace(recording, id="", voice_id="", path="")


# round trip ---------------------------------------------------------------------------------
async def test_round_trip_carries_copies_recordings_and_the_trained_model(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, tmp_path: Path
) -> None:
    original = await trained_voice(store, library)
    archive = await archives.export(original, tmp_path / "alice.zip")
    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read(MANIFEST_NAME))
    assert manifest["version"] == 2
    assert len(manifest["training"]["sample_copies"]) == 2
    assert len(manifest["training"]["recordings"]) == 2

    copy = await archives.import_archive(archive, name="Copy", owner_id=555)
    repository = TrainingRepository(store.db)
    # the training copies: byte-identical, beside the new samples
    old_samples = {s.sha256: s for s in await store.voices.samples(original.id)}
    new_samples = await store.voices.samples(copy.id)
    assert len(new_samples) == 2
    for sample in new_samples:
        old = old_samples[sample.sha256]
        assert sample_copy_path(library, copy.id, sample.id).read_bytes() == (
            sample_copy_path(library, original.id, old.id).read_bytes()
        )
    # the recordings: same rows apart from ids and paths, consent included; same files
    old_recordings = await repository.recordings(original.id)
    new_recordings = await repository.recordings(copy.id)
    assert [without_ids(r) for r in new_recordings] == [without_ids(r) for r in old_recordings]
    assert [r.consent for r in new_recordings] == [SPOKEN, TYPED]
    for old_recording, recording in zip(old_recordings, new_recordings, strict=True):
        assert recording.id != old_recording.id
        assert recording.path == f"voices/{copy.id}/training/audio/{recording.id}.wav"
        data = library.path(recording.path).read_bytes()
        assert data == library.path(old_recording.path).read_bytes()
    # the trained-model record points at the imported model
    old_trained = await repository.trained_model(original.id)
    trained = await repository.trained_model(copy.id)
    assert old_trained is not None and trained is not None
    assert copy.rvc_model is not None and trained.rvc_model == copy.rvc_model
    assert replace(trained, voice_id="", rvc_model="") == replace(
        old_trained, voice_id="", rvc_model=""
    )
    assert await trained_singer(store, copy) == {"trained_epochs": 40}
    # every file landed in the new voice's folder
    folder = library.folder(copy.id).resolve()
    new_files = {p.resolve() for p in all_files(library.voices_dir)} - {
        p.resolve() for p in all_files(library.folder(original.id))
    }
    assert new_files and all(p.is_relative_to(folder) for p in new_files)
    assert await store.db.integrity_check() == []


async def test_export_fails_when_a_recording_file_is_missing(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, tmp_path: Path
) -> None:
    voice = await trained_voice(store, library)
    recording = (await TrainingRepository(store.db).recordings(voice.id))[0]
    library.path(recording.path).unlink()
    with pytest.raises(FileNotFoundError, match="missing"):
        await archives.export(voice, tmp_path / "broken.zip")
    assert not (tmp_path / "broken.zip").exists()


async def test_a_version_1_archive_still_imports(
    store: Store, library: VoiceLibrary, archives: VoiceArchive, tmp_path: Path
) -> None:
    original = await trained_voice(store, library)
    exported = await archives.export(original, tmp_path / "alice.zip")

    def as_version_1(manifest: dict[str, Any]) -> None:
        manifest["version"] = 1
        del manifest["training"]

    def drop_training(members: dict[str, bytes]) -> None:
        for name in [name for name in members if name.startswith("training/")]:
            del members[name]

    older = rewritten(exported, tmp_path / "v1.zip", as_version_1, drop_training)
    copy = await archives.import_archive(older, name="Old Copy")
    assert len(await store.voices.samples(copy.id)) == 2
    assert copy.rvc_model is not None
    repository = TrainingRepository(store.db)
    assert await repository.recordings(copy.id) == []
    assert await repository.trained_model(copy.id) is None
    assert not training_audio_dir(library, copy.id).exists()


# the trained-model record -------------------------------------------------------------------
def _tampered_model(manifest: dict[str, Any]) -> None:
    manifest["training"]["trained_model"]["rvc_model_sha256"] = "0" * 64


def _no_model(manifest: dict[str, Any]) -> None:
    del manifest["files"]["rvc_model"]


@pytest.mark.parametrize(
    ("replaced", "edit"),
    [(True, None), (False, _tampered_model), (False, _no_model)],
    ids=["model-replaced", "other-content", "model-not-archived"],
)
async def test_the_trained_model_record_is_dropped_when_its_model_is_not_in_the_archive(
    store: Store,
    library: VoiceLibrary,
    archives: VoiceArchive,
    tmp_path: Path,
    replaced: bool,
    edit: Callable[[dict[str, Any]], None] | None,
) -> None:
    original = await trained_voice(store, library, replaced=replaced)
    archive = await archives.export(original, tmp_path / "alice.zip")
    if edit is not None:
        archive = rewritten(archive, tmp_path / "edited.zip", edit)
    copy = await archives.import_archive(archive, name="Copy")
    repository = TrainingRepository(store.db)
    assert await repository.trained_model(copy.id) is None
    assert len(await repository.recordings(copy.id)) == 2  # the rest came
    assert await trained_singer(store, copy) == {}


# hostile archives ---------------------------------------------------------------------------
def _first_recording(manifest: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = manifest["training"]["recordings"][0]
    return entry


def _rename_member(new: str) -> tuple[Callable[..., None], Callable[..., None]]:
    old: list[str] = []

    def in_manifest(manifest: dict[str, Any]) -> None:
        old.append(_first_recording(manifest)["file"])
        _first_recording(manifest)["file"] = new

    def in_members(members: dict[str, bytes]) -> None:
        members[new] = members.pop(old[0])

    return in_manifest, in_members


def _missing_member(manifest: dict[str, Any]) -> None:
    _first_recording(manifest)["file"] = "training/recordings/not-there.wav"


def _wrong_checksum(manifest: dict[str, Any]) -> None:
    manifest["training"]["recordings"][1]["file_sha256"] = "0" * 64


def _wrong_copy_checksum(manifest: dict[str, Any]) -> None:
    manifest["training"]["sample_copies"][1]["file_sha256"] = "f" * 64


def _copy_of_no_sample(manifest: dict[str, Any]) -> None:
    manifest["training"]["sample_copies"][0]["sample"] = "samples/nobody.wav"


def _no_consent(manifest: dict[str, Any]) -> None:
    for entry in (manifest["voice"], _first_recording(manifest)):
        entry["consent_at"] = entry["consent_via"] = None


def _bad_epochs(manifest: dict[str, Any]) -> None:
    manifest["training"]["trained_model"]["epochs"] = "forty"


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        (_rename_member("../x"), "'../x' is not a file name Parrot exports"),
        (_rename_member("samples/x.wav"), "is not a file name Parrot exports"),
        ((_missing_member, None), "not-there.wav', which is not in the archive"),
        ((_wrong_checksum, None), "does not match its checksum"),
        ((_wrong_copy_checksum, None), "does not match its checksum"),
        ((_copy_of_no_sample, None), "matches no single sample"),
        ((_no_consent, None), "carries no consent"),
        ((_bad_epochs, None), "trained-model record in the manifest is malformed"),
    ],
    ids=[
        "traversal",
        "outside-training",
        "missing",
        "checksum",
        "copy-checksum",
        "orphan-copy",
        "no-consent",
        "bad-record",
    ],
)
async def test_hostile_training_parts_are_refused_leaving_nothing(
    store: Store,
    library: VoiceLibrary,
    archives: VoiceArchive,
    tmp_path: Path,
    edits: tuple[Callable[..., None], Callable[..., None] | None],
    message: str,
) -> None:
    original = await trained_voice(store, library)
    exported = await archives.export(original, tmp_path / "alice.zip")
    hostile = rewritten(exported, tmp_path / "hostile.zip", *edits)
    before = (all_files(library.voices_dir), await counts(store))
    with pytest.raises(VoiceArchiveError, match=message):
        await archives.import_archive(hostile, name="Hostile")
    assert voice_folders(library) == {original.id}
    assert (all_files(library.voices_dir), await counts(store)) == before == (before[0], (1, 2, 1))


async def test_a_training_file_over_the_size_limit_is_refused(
    store: Store,
    library: VoiceLibrary,
    archives: VoiceArchive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = await trained_voice(store, library)
    archive = await archives.export(original, tmp_path / "alice.zip")
    monkeypatch.setattr(archive_module, "MAX_IMPORT_MEMBER_BYTES", 50_000)  # a recording: 88 kB
    before = all_files(library.voices_dir)
    with pytest.raises(VoiceArchiveError, match=r"training/recordings/\w+\.wav is too large"):
        await archives.import_archive(archive, name="Big")
    assert all_files(library.voices_dir) == before
    assert await counts(store) == (1, 2, 1)
