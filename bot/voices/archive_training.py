"""The training part of a voice archive (export version 2; version 1 has none).

The manifest's ``training`` section lists the enrolment samples' full-rate training copies
(``sample_copies``: the sample member each belongs to), the recordings uploaded for training
(``recordings``: their rows, with consent as samples carry it) and the trained-model record
(``trained_model``: the archived RVC model it names, by member and content hash, or none).

An import checks member names against the layout export writes, extracts the files to
paths chosen here under the new voice's folder (checked against ``file_sha256``), and keeps
the trained-model record only when the imported RVC model is the one it names.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.store import Store
from bot.store.models import Consent, Voice
from bot.store.training import TrainingRepository
from bot.store.voices import new_id
from bot.training.data import sample_copy_path, training_audio_dir
from bot.voices.archive_format import VoiceArchiveError, consent_of, extract, sha256_file
from bot.voices.files import VoiceLibrary

log = logging.getLogger(__name__)

SECTION = "training"
_COPY_MEMBER = re.compile(r"training/audio/[A-Za-z0-9_-]{1,64}\.wav")
_RECORDING_MEMBER = re.compile(r"training/recordings/[A-Za-z0-9_-]{1,64}\.wav")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class UnpackedTraining:
    recordings: list[tuple[str, Path, dict[str, Any]]]
    """(new id, extracted file, manifest entry) per recording."""
    trained_model: dict[str, Any] | None
    """The record, when the imported RVC model is the one it names."""


async def export_training(
    store: Store,
    library: VoiceLibrary,
    voice: Voice,
    sample_members: dict[str, str],
    rvc_member: str | None,
) -> tuple[dict[str, Any], list[tuple[str, Path]]]:
    """The manifest's training section and the files to add. ``sample_members`` maps each
    sample id to its member; ``rvc_member`` is the voice's archived RVC model, if any."""
    repository = store.training
    copies = {
        sample_id: sample_copy_path(library, voice.id, sample_id) for sample_id in sample_members
    }
    copies = {key: path for key, path in copies.items() if await asyncio.to_thread(path.is_file)}
    recordings = await repository.recordings(voice.id)
    recording_paths = [library.path(recording.path) for recording in recordings]
    trained = await repository.trained_model(voice.id)
    named = rvc_member if trained and voice.rvc_model == trained.rvc_model else None
    model = library.path(voice.rvc_model) if named and voice.rvc_model else None
    copy_hashes = await asyncio.to_thread(_hashes, list(copies.values()))
    recording_hashes = await asyncio.to_thread(_hashes, recording_paths)
    model_hash = (await asyncio.to_thread(_hashes, [model]))[0] if model else None
    section: dict[str, Any] = {"sample_copies": [], "recordings": [], "trained_model": None}
    members: list[tuple[str, Path]] = []
    for (sample_id, path), digest in zip(copies.items(), copy_hashes, strict=True):
        arcname = f"training/audio/{sample_id}.wav"
        members.append((arcname, path))
        entry = {"sample": sample_members[sample_id], "file": arcname, "file_sha256": digest}
        section["sample_copies"].append(entry)
    for recording, path, digest in zip(recordings, recording_paths, recording_hashes, strict=True):
        arcname = f"training/recordings/{recording.id}.wav"
        members.append((arcname, path))  # a missing file fails the export, as for samples
        section["recordings"].append(
            {
                "file": arcname,
                "file_sha256": digest,
                "original_name": recording.original_name,
                "sha256": recording.sha256,
                "duration_s": recording.duration_s,
                "sample_rate": recording.sample_rate,
                "consent_at": recording.consent.at if recording.consent else None,
                "consent_via": recording.consent.via if recording.consent else None,
                "created_at": recording.created_at,
            }
        )
    if trained is not None:
        section["trained_model"] = {
            "rvc_model": named,  # None: the model it names is not the one archived
            "rvc_model_sha256": model_hash,
            "epochs": trained.epochs,
            "seconds_of_audio": trained.seconds_of_audio,
            "job_id": trained.job_id,
            "trained_at": trained.trained_at,
        }
    return section, members


def check_training(manifest: dict[str, Any], sample_members: set[str]) -> list[str]:
    """Check the training section (an empty one for a version 1 archive) and return the
    members it names; the caller checks that they exist and their sizes."""
    section = manifest.get(SECTION) if manifest["version"] >= 2 else None
    if section is None:
        section = {}
    if not isinstance(section, dict):
        raise VoiceArchiveError("the manifest's training section is malformed")
    copies, recordings = section.get("sample_copies", []), section.get("recordings", [])
    if not isinstance(copies, list) or not isinstance(recordings, list):
        raise VoiceArchiveError("the manifest's training section is malformed")
    members: list[str] = []
    owners: set[str] = set()
    for entry in copies:
        members.append(_member(entry, _COPY_MEMBER, "training copy"))
        if entry.get("sample") not in sample_members or entry["sample"] in owners:
            raise VoiceArchiveError(f"training copy {entry['file']} matches no single sample")
        owners.add(entry["sample"])
    voice_consent = consent_of(manifest["voice"], None)
    for entry in recordings:
        member = _member(entry, _RECORDING_MEMBER, "training recording")
        members.append(member)
        _check_recording(entry, member, voice_consent)
    if len(set(members)) != len(members):
        raise VoiceArchiveError("the training part names the same file twice")
    manifest[SECTION] = {
        "sample_copies": copies,
        "recordings": recordings,
        "trained_model": _checked_record(section.get("trained_model")),
    }
    return members


def unpack_training(
    archive: zipfile.ZipFile,
    manifest: dict[str, Any],
    library: VoiceLibrary,
    voice_id: str,
    sample_ids: dict[str, str],
    rvc_model: Path | None,
    step: Callable[[str], None],
) -> UnpackedTraining:
    """Extract the training files (blocking). ``sample_ids`` maps each sample member to the
    new sample's id; ``rvc_model`` is the imported RVC model; ``step`` follows each member."""
    section = manifest[SECTION]
    for entry in section["sample_copies"]:
        target = sample_copy_path(library, voice_id, sample_ids[entry["sample"]])
        _extract_checked(archive, entry, target)
        step(entry["file"])
    recordings: list[tuple[str, Path, dict[str, Any]]] = []
    for entry in section["recordings"]:
        recording_id = new_id()
        target = training_audio_dir(library, voice_id) / f"{recording_id}.wav"
        _extract_checked(archive, entry, target)
        recordings.append((recording_id, target, entry))
        step(entry["file"])
    record = section["trained_model"]
    if record is not None and not _names(record, manifest["files"].get("rvc_model"), rvc_model):
        log.info("import: the trained-model record names a model not in the archive; dropped")
        record = None
    return UnpackedTraining(recordings, record)


async def add_training_rows(
    rows: TrainingRepository,
    library: VoiceLibrary,
    voice_id: str,
    unpacked: UnpackedTraining,
    *,
    voice_consent: Consent | None,
    rvc_model: str | None,
) -> None:
    """Write the recordings' rows and the trained-model record, in the caller's transaction."""
    for recording_id, path, entry in unpacked.recordings:
        consent = consent_of(entry, voice_consent)
        assert consent is not None  # check_training refused a recording without consent
        name = entry.get("original_name")
        await rows.add_recording(
            recording_id=recording_id,
            voice_id=voice_id,
            path=library.relative(path),
            original_name=name[:200] if isinstance(name, str) else None,
            sha256=entry["sha256"],
            duration_s=float(entry["duration_s"]),
            sample_rate=int(entry["sample_rate"]),
            consent=consent,
            created_at=_time(entry.get("created_at")),
        )
    record = unpacked.trained_model
    if record is not None and rvc_model is not None:
        job_id = record.get("job_id")
        await rows.set_trained_model(
            voice_id,
            rvc_model=rvc_model,
            epochs=int(record["epochs"]),
            seconds_of_audio=float(record["seconds_of_audio"]),
            job_id=job_id[:64] if isinstance(job_id, str) else None,
            trained_at=_time(record.get("trained_at")),
        )


def _hashes(paths: list[Path]) -> list[str | None]:
    return [sha256_file(path) if path.is_file() else None for path in paths]


def _member(entry: object, pattern: re.Pattern[str], kind: str) -> str:
    if not isinstance(entry, dict):
        raise VoiceArchiveError(f"a {kind} entry in the manifest is malformed")
    member = entry.get("file")
    if not isinstance(member, str) or not pattern.fullmatch(member):
        raise VoiceArchiveError(f"{kind} {member!r} is not a file name Parrot exports")
    digest = entry.get("file_sha256")
    if digest is not None and not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
        raise VoiceArchiveError(f"{member} has a malformed checksum")
    return member


def _check_recording(entry: dict[str, Any], member: str, voice_consent: Consent | None) -> None:
    if not (isinstance(entry.get("sha256"), str) and _SHA256.fullmatch(entry["sha256"])):
        raise VoiceArchiveError(f"training recording {member} lacks its sha256")
    if not _number(entry.get("duration_s")):
        raise VoiceArchiveError(f"training recording {member} lacks its duration")
    rate = entry.get("sample_rate")
    if not (isinstance(rate, int) and 1 <= rate <= 384_000):
        raise VoiceArchiveError(f"training recording {member} lacks its sample rate")
    if consent_of(entry, voice_consent) is None:
        raise VoiceArchiveError(f"training recording {member} carries no consent")


def _checked_record(record: object) -> dict[str, Any] | None:
    if record is None:
        return None
    if not (
        isinstance(record, dict)
        and isinstance(record.get("epochs"), int)
        and record["epochs"] >= 0
        and _number(record.get("seconds_of_audio"))
        and (record.get("rvc_model") is None or isinstance(record["rvc_model"], str))
    ):
        raise VoiceArchiveError("the trained-model record in the manifest is malformed")
    digest = record.get("rvc_model_sha256")
    if digest is not None and not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
        raise VoiceArchiveError("the trained-model record has a malformed checksum")
    return record


def _names(record: dict[str, Any], rvc_member: str | None, rvc_model: Path | None) -> bool:
    """Whether ``record`` names the imported RVC model: the same member (when it says) and
    the same content (when it gives a hash), else the model's mere presence."""
    if rvc_model is None or rvc_member is None:
        return False
    if "rvc_model" in record and record["rvc_model"] != rvc_member:
        return False
    digest = record.get("rvc_model_sha256")
    return digest is None or digest == sha256_file(rvc_model)


def _extract_checked(archive: zipfile.ZipFile, entry: dict[str, Any], target: Path) -> None:
    extract(archive, entry["file"], target)
    digest = entry.get("file_sha256")
    if digest is not None and sha256_file(target) != digest:
        raise VoiceArchiveError(f"{entry['file']} does not match its checksum")


def _number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _time(value: object) -> str | None:
    """An archived ISO time, or None (the database's now) when it is not one."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return None
    return value
