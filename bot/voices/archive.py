"""A voice as a zip: export (metadata, samples, derived files, training data) and import
as a new voice. The format's pieces are in :mod:`.archive_format`; the training part (full-rate
training copies, training recordings, the trained-model record) in :mod:`.archive_training`.

Consent travels with the voice: the archive holds when and how it was given, for the voice
and for each sample and recording, and an import records it as it came (``import`` as the
path where an older archive has only the time).
"""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path
from typing import Any

from bot.store import Store
from bot.store.audit import AuditAction, Who
from bot.store.models import Visibility, Voice, VoiceSource, VoiceStatus
from bot.store.voices import new_id
from bot.voices.archive_format import (
    EXPORT_FORMAT,
    EXPORT_VERSION,
    MANIFEST_NAME,
    MAX_IMPORT_MEMBER_BYTES,
    MAX_IMPORT_TOTAL_BYTES,
    READABLE_VERSIONS,
    Progress,
    VoiceArchiveError,
    consent_of,
    extract,
    sha256_file,
)
from bot.voices.archive_training import (
    UnpackedTraining,
    add_training_rows,
    check_training,
    export_training,
    unpack_training,
)
from bot.voices.files import VoiceLibrary
from bot.voices.names import check_voice_name
from engine.api import atomic_writer

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "MANIFEST_NAME",
    "MAX_IMPORT_MEMBER_BYTES",
    "MAX_IMPORT_TOTAL_BYTES",
    "Progress",
    "VoiceArchive",
    "VoiceArchiveError",
]

_DERIVED_FILES = ("conditionals", "rvc_model", "rvc_index")


class VoiceArchive:
    """Export voices to zips and import them back, files first and rows once complete."""

    def __init__(self, store: Store, library: VoiceLibrary) -> None:
        self._store = store
        self._library = library

    async def export(
        self, voice: Voice, destination: Path, progress: Progress | None = None
    ) -> Path:
        """Write a zip holding the voice's metadata, samples, derived files and training data."""
        samples = await self._store.voices.samples(voice.id)
        manifest: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "voice": {
                "name": voice.name,
                "owner_id": voice.owner_id,
                "guild_id": voice.guild_id,
                "visibility": voice.visibility,
                "source": voice.source,
                "status": voice.status,
                "tts_model": voice.tts_model,
                "consent_at": voice.consent_at,
                "consent_via": voice.consent_via,
                "created_at": voice.created_at,
            },
            "samples": [],
            "files": {},
        }
        members: list[tuple[str, Path]] = []
        for sample in samples:
            arcname = f"samples/{sample.id}.wav"
            members.append((arcname, self._library.path(sample.path)))
            manifest["samples"].append(
                {
                    "file": arcname,
                    "original_name": sample.original_name,
                    "sha256": sample.sha256,
                    "duration_s": sample.duration_s,
                    "sample_rate": sample.sample_rate,
                    "consent_at": sample.consent.at if sample.consent else None,
                    "consent_via": sample.consent.via if sample.consent else None,
                }
            )
        for key, relative in zip(
            _DERIVED_FILES, (voice.conditionals, voice.rvc_model, voice.rvc_index), strict=True
        ):
            if relative:
                arcname = f"{key}{Path(relative).suffix}"
                members.append((arcname, self._library.path(relative)))
                manifest["files"][key] = arcname
        sample_members = {sample.id: f"samples/{sample.id}.wav" for sample in samples}
        manifest["training"], training_members = await export_training(
            self._store, self._library, voice, sample_members, manifest["files"].get("rvc_model")
        )
        members += training_members
        return await asyncio.to_thread(_write_zip, destination, manifest, members, progress)

    async def import_archive(
        self,
        archive_path: Path,
        *,
        name: str | None = None,
        owner_id: int | None = None,
        progress: Progress | None = None,
        who: Who | None = None,
    ) -> Voice:
        """Create a new voice from an export. Files land first; rows (the voice, its samples,
        its training data and the audit entry, made by ``who``: the CLI when None) only once
        complete."""
        manifest, size = await asyncio.to_thread(_read_manifest, archive_path)
        meta = manifest["voice"]
        consent = consent_of(meta, None)
        voice_name = check_voice_name(name or str(meta.get("name", "")))
        owner = owner_id if owner_id is not None else meta.get("owner_id")
        voice_id = new_id()
        # the enrolment lock: no start-up sweep removes the folder before its rows exist
        async with self._library.enrolment(voice_id) as folder:
            try:
                samples, files, training = await asyncio.to_thread(
                    _unpack, archive_path, manifest, size, self._library, folder, progress
                )
                ready = "conditionals" in files
                async with self._store.unit_of_work() as work:
                    await work.voices.create(
                        voice_id=voice_id,
                        name=voice_name,
                        owner_id=owner,
                        guild_id=meta.get("guild_id"),
                        visibility=Visibility(meta.get("visibility", Visibility.PRIVATE)),
                        source=VoiceSource.IMPORT,
                        status=VoiceStatus.READY if ready else VoiceStatus.PENDING,
                        tts_model=meta.get("tts_model") if ready else None,
                        conditionals=self._relative(files.get("conditionals")),
                        rvc_model=self._relative(files.get("rvc_model")),
                        rvc_index=self._relative(files.get("rvc_index")),
                        consent=consent,
                    )
                    for sample_id, entry in samples:
                        await work.voices.add_sample(
                            sample_id=sample_id,
                            voice_id=voice_id,
                            path=self._library.relative(folder / "samples" / f"{sample_id}.wav"),
                            original_name=entry.get("original_name"),
                            sha256=entry["sha256"],
                            duration_s=float(entry["duration_s"]),
                            sample_rate=int(entry["sample_rate"]),
                            consent=consent_of(entry, consent),
                        )
                    await add_training_rows(
                        work.training,
                        self._library,
                        voice_id,
                        training,
                        voice_consent=consent,
                        rvc_model=self._relative(files.get("rvc_model")),
                    )
                    voice = await work.voices.get(voice_id)
                    assert voice is not None
                    await work.audit.record(
                        AuditAction.IMPORT,
                        who or Who.cli(),
                        voice=voice,
                        detail={"samples": len(samples), "archive": archive_path.name},
                    )
            except BaseException:
                await self._library.remove_folder(voice_id)
                raise
        return voice

    def _relative(self, path: Path | None) -> str | None:
        return None if path is None else self._library.relative(path)


def _write_zip(
    destination: Path,
    manifest: dict[str, Any],
    members: list[tuple[str, Path]],
    progress: Progress | None,
) -> Path:
    missing = [str(path) for _, path in members if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"voice files are missing: {', '.join(missing)}")
    total = sum(path.stat().st_size for _, path in members)
    done = 0
    with (
        atomic_writer(destination) as handle,
        zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        archive.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2))
        for arcname, path in members:
            archive.write(path, arcname)
            done += path.stat().st_size
            if progress:
                progress(done, total)
    return destination


def _unpack(
    archive_path: Path,
    manifest: dict[str, Any],
    total: int,
    library: VoiceLibrary,
    folder: Path,
    progress: Progress | None,
) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, Path], UnpackedTraining]:
    """Extract samples (checked against their checksums), derived files and the training
    part into ``folder``; ``total`` is the bytes of every member, for ``progress``."""
    samples_out: list[tuple[str, dict[str, Any]]] = []
    files_out: dict[str, Path] = {}
    with zipfile.ZipFile(archive_path) as archive:
        done = 0

        def step(member: str) -> None:
            nonlocal done
            done += archive.getinfo(member).file_size
            if progress:
                progress(done, total)

        for entry in manifest["samples"]:
            sample_id = new_id()
            target = folder / "samples" / f"{sample_id}.wav"
            extract(archive, entry["file"], target)
            if sha256_file(target) != entry["sha256"]:
                raise VoiceArchiveError(f"{entry['file']} does not match its checksum")
            samples_out.append((sample_id, entry))
            step(entry["file"])
        for key, member in manifest["files"].items():
            target = folder / f"{key}{Path(member).suffix}"
            extract(archive, member, target)
            files_out[key] = target
            step(member)
        sample_ids = {entry["file"]: sample_id for sample_id, entry in samples_out}
        training = unpack_training(
            archive, manifest, library, folder.name, sample_ids, files_out.get("rvc_model"), step
        )
    return samples_out, files_out, training


def _read_manifest(archive_path: Path) -> tuple[dict[str, Any], int]:
    """The checked manifest and the total size of the members it names."""
    try:
        with zipfile.ZipFile(archive_path) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            if MANIFEST_NAME not in infos:
                raise VoiceArchiveError(f"not a Parrot voice export: no {MANIFEST_NAME} inside")
            if infos[MANIFEST_NAME].file_size > 1024 * 1024:
                raise VoiceArchiveError(f"{MANIFEST_NAME} is implausibly large")
            manifest = json.loads(archive.read(MANIFEST_NAME))
    except zipfile.BadZipFile as error:
        raise VoiceArchiveError(f"not a zip file: {error}") from None
    except json.JSONDecodeError as error:
        raise VoiceArchiveError(f"{MANIFEST_NAME} is not valid JSON: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        raise VoiceArchiveError("not a Parrot voice export (wrong format marker)")
    if manifest.get("version") not in READABLE_VERSIONS or isinstance(
        manifest.get("version"), bool
    ):
        raise VoiceArchiveError(
            f"export version {manifest.get('version')!r} is not supported (expected 1 or 2)"
        )
    if not isinstance(manifest.get("voice"), dict) or not isinstance(manifest.get("samples"), list):
        raise VoiceArchiveError("the manifest lacks its voice or samples section")
    manifest.setdefault("files", {})
    members = [entry.get("file") for entry in manifest["samples"] if isinstance(entry, dict)]
    if len(members) != len(manifest["samples"]):
        raise VoiceArchiveError("a sample entry in the manifest is malformed")
    if not isinstance(manifest["files"], dict):
        raise VoiceArchiveError("the manifest's files section is malformed")
    if not set(manifest["files"]) <= set(_DERIVED_FILES):
        unknown = set(manifest["files"]) - set(_DERIVED_FILES)
        raise VoiceArchiveError(f"unknown files in manifest: {sorted(unknown)}")
    samples = set(members)
    members += list(manifest["files"].values())
    members += check_training(manifest, {m for m in samples if isinstance(m, str)})
    total = 0
    for member in members:
        if not isinstance(member, str) or member not in infos:
            raise VoiceArchiveError(f"the manifest names {member!r}, which is not in the archive")
        size = infos[member].file_size
        if size > MAX_IMPORT_MEMBER_BYTES:
            raise VoiceArchiveError(f"{member} is too large to import")
        total += size
    if total > MAX_IMPORT_TOTAL_BYTES:
        raise VoiceArchiveError("the archive is too large to import")
    for entry in manifest["samples"]:
        for key in ("sha256", "duration_s", "sample_rate"):
            if key not in entry:
                raise VoiceArchiveError(f"sample {entry['file']} lacks {key}")
    return manifest, total
