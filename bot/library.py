"""Voices on disk and in the database together: delete, export, import, orphan sweep.

The rule that keeps the two consistent: files are written completely (atomically)
*before* a row points at them, and rows are deleted *before* their files. A crash
in between therefore leaves only unreferenced files, which :meth:`sweep` removes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import shutil
import sqlite3
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.store import Store
from bot.store.models import Visibility, Voice, VoiceSource, VoiceStatus
from bot.store.voices import VoiceNameTakenError, new_id
from engine.engine import Engine, SampleLimits
from engine.files import atomic_path, atomic_writer, remove_stale_temporaries
from engine.tts.profile import PreparedSample
from engine.voices import load_prepared_sample

log = logging.getLogger(__name__)

EXPORT_FORMAT = "parrot-voice"
EXPORT_VERSION = 1
MANIFEST_NAME = "parrot-voice.json"
MAX_IMPORT_MEMBER_BYTES = 1024**3
MAX_IMPORT_TOTAL_BYTES = 2 * 1024**3
_VOICE_NAME = re.compile(r"^[\w][\w .'\-]{0,31}$", re.UNICODE)

Progress = Callable[[int, int], None]
"""Called with (done, total) as long work advances."""


class VoiceArchiveError(ValueError):
    """An import archive that is not a Parrot voice export, or is damaged."""


class VoiceNameError(ValueError):
    """A voice name people could not type or read back."""


def check_voice_name(name: str) -> str:
    """A voice name people can type: 1–32 letters, digits, spaces, ``.'-_``."""
    name = name.strip()
    if not _VOICE_NAME.match(name):
        raise VoiceNameError(
            "voice names are 1 to 32 characters: letters, digits, spaces and . ' - _"
        )
    return name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class SweepReport:
    orphan_folders: list[Path]
    stale_temporaries: list[Path]


class VoiceLibrary:
    def __init__(self, store: Store, data_dir: Path) -> None:
        self._store = store
        self._data_dir = data_dir

    @property
    def voices_dir(self) -> Path:
        return self._data_dir / "voices"

    def folder(self, voice_id: str) -> Path:
        return self.voices_dir / voice_id

    def path(self, relative: str) -> Path:
        """A stored relative path as an absolute one, refusing anything outside the data dir."""
        resolved = (self._data_dir / relative).resolve()
        if not resolved.is_relative_to(self._data_dir.resolve()):
            raise ValueError(f"stored path {relative!r} points outside the data directory")
        return resolved

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self._data_dir.resolve()).as_posix()

    # delete ------------------------------------------------------------------------
    async def delete(self, voice: Voice) -> None:
        """Remove the voice's rows, then every file it had."""
        await self._store.voices.delete(voice.id)
        await asyncio.to_thread(shutil.rmtree, self.folder(voice.id), True)
        log.info("deleted voice %s (%s)", voice.id, voice.name)

    # sweep -------------------------------------------------------------------------
    async def sweep(self) -> SweepReport:
        """Remove voice folders no row points at, and leftovers of interrupted writes."""
        known = await self._store.voices.all_ids()

        def sweep_files() -> SweepReport:
            orphans = []
            if self.voices_dir.exists():
                for folder in self.voices_dir.iterdir():
                    if folder.is_dir() and folder.name not in known:
                        shutil.rmtree(folder, ignore_errors=True)
                        orphans.append(folder)
            stale = remove_stale_temporaries(self._data_dir)
            return SweepReport(orphans, stale)

        report = await asyncio.to_thread(sweep_files)
        if report.orphan_folders or report.stale_temporaries:
            log.warning(
                "start-up sweep removed %d orphan voice folder(s) and %d unfinished file(s)",
                len(report.orphan_folders),
                len(report.stale_temporaries),
            )
        return report

    # export ------------------------------------------------------------------------
    async def export(
        self, voice: Voice, destination: Path, progress: Progress | None = None
    ) -> Path:
        """Write a zip holding the voice's metadata, samples and derived files."""
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
                "created_at": voice.created_at,
            },
            "samples": [],
            "files": {},
        }
        members: list[tuple[str, Path]] = []
        for sample in samples:
            arcname = f"samples/{sample.id}.wav"
            members.append((arcname, self.path(sample.path)))
            manifest["samples"].append(
                {
                    "file": arcname,
                    "original_name": sample.original_name,
                    "sha256": sample.sha256,
                    "duration_s": sample.duration_s,
                    "sample_rate": sample.sample_rate,
                }
            )
        for key, relative in (
            ("conditionals", voice.conditionals),
            ("rvc_model", voice.rvc_model),
            ("rvc_index", voice.rvc_index),
        ):
            if relative:
                arcname = f"{key}{Path(relative).suffix}"
                members.append((arcname, self.path(relative)))
                manifest["files"][key] = arcname

        def write() -> Path:
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

        return await asyncio.to_thread(write)

    # import ------------------------------------------------------------------------
    async def import_archive(
        self,
        archive_path: Path,
        *,
        name: str | None = None,
        owner_id: int | None = None,
        progress: Progress | None = None,
    ) -> Voice:
        """Create a new voice from an export. Files land first; rows only once complete."""
        manifest = await asyncio.to_thread(_read_manifest, archive_path)
        meta = manifest["voice"]
        voice_name = check_voice_name(name or str(meta.get("name", "")))
        owner = owner_id if owner_id is not None else meta.get("owner_id")
        voice_id = new_id()
        folder = self.folder(voice_id)

        def unpack() -> tuple[list[tuple[str, dict[str, Any]]], dict[str, str]]:
            samples_out: list[tuple[str, dict[str, Any]]] = []
            files_out: dict[str, str] = {}
            with zipfile.ZipFile(archive_path) as archive:
                wanted = [entry["file"] for entry in manifest["samples"]]
                wanted += list(manifest["files"].values())
                total = sum(archive.getinfo(member).file_size for member in wanted)
                done = 0
                for entry in manifest["samples"]:
                    sample_id = new_id()
                    target = folder / "samples" / f"{sample_id}.wav"
                    _extract(archive, entry["file"], target)
                    if _sha256(target) != entry["sha256"]:
                        raise VoiceArchiveError(f"{entry['file']} does not match its checksum")
                    samples_out.append((sample_id, entry))
                    done += archive.getinfo(entry["file"]).file_size
                    if progress:
                        progress(done, total)
                for key, member in manifest["files"].items():
                    target = folder / f"{key}{Path(member).suffix}"
                    _extract(archive, member, target)
                    files_out[key] = self.relative(target)
                    done += archive.getinfo(member).file_size
                    if progress:
                        progress(done, total)
            return samples_out, files_out

        try:
            samples, files = await asyncio.to_thread(unpack)
            async with self.name_guard(voice_name), self._store.db.transaction() as connection:
                await connection.execute(
                    "INSERT INTO voices (id, name, owner_id, guild_id, visibility, source, status,"
                    " tts_model, conditionals, rvc_model, rvc_index, consent_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        voice_id,
                        voice_name,
                        owner,
                        meta.get("guild_id"),
                        Visibility(meta.get("visibility", Visibility.PRIVATE)),
                        VoiceSource.IMPORT,
                        VoiceStatus.READY if "conditionals" in files else VoiceStatus.PENDING,
                        meta.get("tts_model") if "conditionals" in files else None,
                        files.get("conditionals"),
                        files.get("rvc_model"),
                        files.get("rvc_index"),
                        meta.get("consent_at"),
                    ),
                )
                for sample_id, entry in samples:
                    await connection.execute(
                        "INSERT INTO voice_samples (id, voice_id, path, original_name, sha256,"
                        " duration_s, sample_rate) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            sample_id,
                            voice_id,
                            self.relative(folder / "samples" / f"{sample_id}.wav"),
                            entry.get("original_name"),
                            entry["sha256"],
                            float(entry["duration_s"]),
                            int(entry["sample_rate"]),
                        ),
                    )
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, folder, True)
            raise
        voice = await self._store.voices.get(voice_id)
        assert voice is not None
        return voice

    @staticmethod
    @contextlib.asynccontextmanager
    async def name_guard(name: str) -> AsyncIterator[None]:
        """Report the owner-and-name clash as :class:`VoiceNameTakenError`, like ``create``."""
        try:
            yield
        except sqlite3.IntegrityError as error:
            if "voices_owner_name" in str(error):
                raise VoiceNameTakenError(f"a voice named {name!r} already exists") from None
            raise


def _read_manifest(archive_path: Path) -> dict[str, Any]:
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
    if manifest.get("version") != EXPORT_VERSION:
        raise VoiceArchiveError(
            f"export version {manifest.get('version')!r} is not supported (expected 1)"
        )
    if not isinstance(manifest.get("voice"), dict) or not isinstance(manifest.get("samples"), list):
        raise VoiceArchiveError("the manifest lacks its voice or samples section")
    manifest.setdefault("files", {})
    members = [entry.get("file") for entry in manifest["samples"] if isinstance(entry, dict)]
    if len(members) != len(manifest["samples"]):
        raise VoiceArchiveError("a sample entry in the manifest is malformed")
    members += list(manifest["files"].values())
    allowed_keys = {"conditionals", "rvc_model", "rvc_index"}
    if not set(manifest["files"]) <= allowed_keys:
        unknown = set(manifest["files"]) - allowed_keys
        raise VoiceArchiveError(f"unknown files in manifest: {sorted(unknown)}")
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
    return manifest


def _extract(archive: zipfile.ZipFile, member: str, target: Path) -> None:
    """Copy one member to ``target`` (a path we chose, never the member's own name)."""
    limit = archive.getinfo(member).file_size
    with archive.open(member) as source, atomic_path(target) as temp, temp.open("wb") as out:
        copied = 0
        for block in iter(lambda: source.read(1024 * 1024), b""):
            copied += len(block)
            if copied > limit:
                raise VoiceArchiveError(f"{member} is larger than its header says")
            out.write(block)


class VoiceEnroller:
    """Enrolment as one unit: samples and conditionals on disk first, then the rows.

    Used by the CLI and the Discord commands alike.
    """

    def __init__(
        self, store: Store, library: VoiceLibrary, engine: Engine, limits: SampleLimits
    ) -> None:
        self._store = store
        self._library = library
        self._engine = engine
        self._limits = limits

    async def enroll(
        self,
        name: str,
        sources: list[Path],
        *,
        owner_id: int | None,
        guild_id: int | None,
        visibility: Visibility,
        source: VoiceSource,
        consent_at: str | None = None,
        on_stage: Callable[[str], None] | None = None,
        original_names: list[str] | None = None,
    ) -> tuple[Voice, list[PreparedSample]]:
        name = check_voice_name(name)
        if not sources:
            raise ValueError("enrolment needs at least one audio sample")
        await self._check_name_free(name, owner_id)
        shown_names = original_names or [path.name for path in sources]
        voice_id = new_id()
        folder = self._library.folder(voice_id)
        try:
            prepared: list[PreparedSample] = []
            for index, path in enumerate(sources, start=1):
                if on_stage:
                    on_stage(f"checking sample {index}/{len(sources)}")
                sample_id = new_id()
                prepared.append(
                    await self._engine.prepare_sample(
                        path, folder / "samples" / f"{sample_id}.wav", self._limits
                    )
                )
            if on_stage:
                on_stage("analysing the voice")
            profile = await self._engine.build_profile(folder, prepared)
            async with (
                self._library.name_guard(name),
                self._store.db.transaction() as connection,
            ):
                await connection.execute(
                    "INSERT INTO voices (id, name, owner_id, guild_id, visibility, source,"
                    " status, tts_model, conditionals, consent_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        voice_id,
                        name,
                        owner_id,
                        guild_id,
                        visibility,
                        source,
                        VoiceStatus.READY,
                        profile.backend,
                        self._library.relative(profile.conditionals),
                        consent_at,
                    ),
                )
                for sample, shown_name in zip(prepared, shown_names, strict=True):
                    await connection.execute(
                        "INSERT INTO voice_samples (id, voice_id, path, original_name, sha256,"
                        " duration_s, sample_rate) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            sample.path.stem,
                            voice_id,
                            self._library.relative(sample.path),
                            shown_name[:200],
                            sample.sha256,
                            sample.duration_s,
                            sample.sample_rate,
                        ),
                    )
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, folder, True)
            raise
        voice = await self._store.voices.get(voice_id)
        assert voice is not None
        return voice, prepared

    async def add_sample(
        self, voice: Voice, source: Path, *, original_name: str | None
    ) -> tuple[Voice, PreparedSample]:
        """Check and store one more sample, then rebuild the voice from all of them.

        The new conditionals replace the old file atomically; the sample's row is added
        only once they are written, and a failure removes the new sample file.
        """
        folder = self._library.folder(voice.id)
        sample_id = new_id()
        target = folder / "samples" / f"{sample_id}.wav"
        try:
            prepared = await self._engine.prepare_sample(source, target, self._limits)
            existing = [
                await asyncio.to_thread(load_prepared_sample, self._library.path(sample.path))
                for sample in await self._store.voices.samples(voice.id)
            ]
            profile = await self._engine.build_profile(folder, [*existing, prepared])
            async with self._store.db.transaction() as connection:
                await connection.execute(
                    "INSERT INTO voice_samples (id, voice_id, path, original_name, sha256,"
                    " duration_s, sample_rate) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        sample_id,
                        voice.id,
                        self._library.relative(target),
                        (original_name or source.name)[:200],
                        prepared.sha256,
                        prepared.duration_s,
                        prepared.sample_rate,
                    ),
                )
                await connection.execute(
                    "UPDATE voices SET conditionals = ?, tts_model = ?, status = ?,"
                    " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
                    (
                        self._library.relative(profile.conditionals),
                        profile.backend,
                        VoiceStatus.READY,
                        voice.id,
                    ),
                )
        except BaseException:
            await asyncio.to_thread(target.unlink, True)
            raise
        updated = await self._store.voices.get(voice.id)
        assert updated is not None
        return updated, prepared

    async def _check_name_free(self, name: str, owner_id: int | None) -> None:
        for existing in await self._store.voices.find(name):
            if existing.name.lower() == name.lower() and existing.owner_id == owner_id:
                raise VoiceNameTakenError(f"a voice named {name!r} already exists")
