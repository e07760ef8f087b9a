"""Members' data rights and retention, without Discord: export, purge, expire old audio.

Deletion follows the rule of :mod:`bot.voices.files`: rows first (one transaction), files
after. The database is told to zero freed pages and its WAL is checkpointed, so deleted
rows are not left readable in ``parrot.db`` or ``parrot.db-wal`` either.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import shutil
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.store import Store
from bot.store.audit import Who
from bot.store.personal import Removed
from bot.training.data import training_audio_dir
from bot.usage import iso_utc
from bot.voices.files import VoiceLibrary
from engine.api import COVER_CACHE_FOLDER, atomic_write_bytes, atomic_writer

log = logging.getLogger(__name__)

EXPORT_FORMAT = "parrot-member-export"
EXPORT_VERSION = 1
MANIFEST_NAME = "parrot-data.json"
ZIP_ENTRY_OVERHEAD = 512
"""Bytes reserved per zip entry (headers, directory record) when budgeting an export."""
JOURNAL_DIR = "run/deletions"
GENERATED_AUDIO_DIRS = ("covers", "outputs")
"""Folders under the data dir that hold generated audio (subject to retention)."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    size: int
    samples_included: int
    samples_left_out: int
    models_included: int = 0
    models_left_out: int = 0


@dataclass(frozen=True, slots=True)
class PurgeReport:
    voices: int
    rows: dict[str, int]
    files_removed: int

    @property
    def history(self) -> int:
        return self.rows.get("generations", 0)


@dataclass(slots=True)
class RetentionReport:
    cutoff: str
    files_removed: list[str] = field(default_factory=list)


class PrivacyService:
    def __init__(self, store: Store, data_dir: Path) -> None:
        self._store = store
        self._data_dir = data_dir
        self._library = VoiceLibrary(store, data_dir)

    # export ------------------------------------------------------------------------------
    async def export_member(
        self, user_id: int, destination: Path, *, max_bytes: int | None = None
    ) -> ExportResult:
        """A zip of everything held about the member: ``parrot-data.json`` (their voices'
        metadata and consent, history, settings, jobs, audit entries, hides and training
        data) and their voices' samples and singing models.

        With ``max_bytes`` (an upload limit), files that do not fit are left out and listed
        in the manifest as such (samples first, then models); the metadata is always
        complete. Training audio is listed, not included (``parrot voices export`` has it).
        """
        records = await self._store.personal.member_records(user_id)
        samples = [
            (
                f"voices/{sample['voice_id']}/samples/{sample['id']}.wav",
                {"sample_id": sample["id"]},
                self._library.path(str(sample["path"])),
            )
            for sample in records["voice_samples"]
        ]
        training, models = await self._training_records(user_id)
        manifest: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "user_id": user_id,
            "exported_at": iso_utc(datetime.now(UTC)),
            "records": records,
            "training": training,
            "sample_files": [],
            "model_files": [],
        }

        def write(include: bool) -> ExportResult:
            members: list[tuple[str, Path]] = []
            budget = None if max_bytes is None else max_bytes - 64 * 1024
            used = 0
            for key, files in (("sample_files", samples), ("model_files", models)):
                manifest[key] = []
                for arcname, described, path in files:
                    entry: dict[str, Any] = {**described, "file": None}
                    size = path.stat().st_size if path.is_file() else None
                    if size is None:
                        entry["left_out"] = "the file is missing on the server"
                    elif not include or (budget is not None and used + size > budget):
                        entry["left_out"] = "too large for the upload limit"
                    else:
                        used += size + ZIP_ENTRY_OVERHEAD
                        entry["file"] = arcname
                        members.append((arcname, path))
                    manifest[key].append(entry)
            with (
                atomic_writer(destination) as handle,
                zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive,
            ):
                archive.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2, default=str))
                for arcname, path in members:
                    archive.write(path, arcname)
            included = {arcname for arcname, _ in members}
            samples_in = sum(1 for arcname, _, _ in samples if arcname in included)
            return ExportResult(
                destination,
                destination.stat().st_size,
                samples_in,
                len(samples) - samples_in,
                len(included) - samples_in,
                len(models) - (len(included) - samples_in),
            )

        result = await asyncio.to_thread(write, True)
        if max_bytes is not None and result.size > max_bytes:  # compression surprised us
            result = await asyncio.to_thread(write, False)
        return result

    async def _training_records(
        self, user_id: int
    ) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any], Path]]]:
        """The member's training data as the manifest lists it (recordings, the audio files
        training reads, trained models), and their voices' singing model files to include."""
        repository = self._store.training
        voices = await self._store.voices.list(owner_id=user_id)
        recordings = await repository.recordings_of_owner(user_id)
        trained = [await repository.trained_model(voice.id) for voice in voices]
        audio = await asyncio.to_thread(
            lambda: {
                voice.id: sorted(
                    self._library.relative(path)
                    for path in training_audio_dir(self._library, voice.id).glob("*.wav")
                )
                for voice in voices
            }
        )
        listing: dict[str, Any] = {
            "recordings": [asdict(recording) for recording in recordings],
            "audio_files": {voice_id: files for voice_id, files in audio.items() if files},
            "trained_models": [asdict(model) for model in trained if model is not None],
        }
        models = []
        for voice in voices:
            for relative in (voice.rvc_model, voice.rvc_index):
                if relative:
                    path = self._library.path(relative)
                    arcname = f"voices/{voice.id}/singing/{path.name}"
                    models.append((arcname, {"voice_id": voice.id, "path": relative}, path))
        return listing, models

    # deletion ----------------------------------------------------------------------------
    async def purge_member(self, user_id: int, *, who: Who | None = None) -> PurgeReport:
        """Everything about a member, in every server: voices, samples, files, history,
        settings and jobs (and audio others made with the member's voices). The audit trail
        keeps its entries without the member and their voices, like history does.

        ``who`` asked for it (the audit entry of the purge): by default the member
        themselves, who is forgotten too."""
        await self._store.personal.erase_freed_content()
        journal = self._journal_path()
        removed = await self._store.personal.delete_member(
            user_id, self._journal(journal), who=who or Who.forgotten_member()
        )
        report = await self._remove_files(removed, journal)
        log.info("purged member %s: %s", user_id, report)
        return report

    async def purge_guild(self, guild_id: int, *, who: Who | None = None) -> PurgeReport:
        """A server that removed the bot: its settings, its members' settings there, the
        voices enrolled there, its history, jobs, hides and their files. The audit trail
        forgets the server and those voices (see ``PersonalDataRepository.delete_guild``).

        ``who`` asked for it (the audit entry of the purge; the CLI by default)."""
        await self._store.personal.erase_freed_content()
        journal = self._journal_path()
        removed = await self._store.personal.delete_guild(
            guild_id, self._journal(journal), who=who or Who.cli()
        )
        report = await self._remove_files(removed, journal)
        log.info("purged guild %s: %s", guild_id, report)
        return report

    # The journal: the files a deletion will remove, written before its rows go. After a
    # crash, finish_interrupted() removes those no row points at any more.
    def _journal_path(self) -> Path:
        return self._data_dir / JOURNAL_DIR / f"{secrets.token_hex(8)}.json"

    def _journal(self, path: Path) -> Callable[[Removed], Awaitable[None]]:
        async def write(removed: Removed) -> None:
            entry = {"voice_ids": removed.voice_ids, "files": removed.files}
            await asyncio.to_thread(atomic_write_bytes, path, json.dumps(entry).encode())

        return write

    async def finish_interrupted(self) -> int:
        """Finish deletions a crash cut short; returns how many files were removed."""
        journals = sorted((self._data_dir / JOURNAL_DIR).glob("*.json"))
        if not journals:
            return 0
        referenced = await self._store.personal.referenced_files()
        known = await self._store.voices.all_ids()
        removed = 0
        for journal in journals:
            try:
                entry = json.loads(await asyncio.to_thread(journal.read_bytes))
                files = [f for f in entry["files"] if f not in referenced]
                voice_ids = [v for v in entry["voice_ids"] if v not in known]
            except (OSError, ValueError, KeyError, TypeError):
                log.warning("ignoring an unreadable deletion journal %s", journal)
                files, voice_ids = [], []
            leftovers = Removed(voice_ids=voice_ids, files=files)
            removed += (await self._remove_files(leftovers, journal)).files_removed
        log.info("finished %d interrupted deletion(s): %d file(s)", len(journals), removed)
        return removed

    async def _remove_files(self, removed: Removed, journal: Path) -> PurgeReport:
        await self._store.personal.checkpoint()
        folders = [self._library.folder(voice_id) for voice_id in removed.voice_ids]
        files = [self._resolve(relative) for relative in removed.files]

        def remove() -> int:
            count = 0
            for folder in folders:
                if folder.exists():
                    count += sum(1 for path in folder.rglob("*") if path.is_file())
                    shutil.rmtree(folder, ignore_errors=True)
            for path in files:
                if path is not None and path.is_file():
                    path.unlink(missing_ok=True)
                    count += 1
            return count

        count = await asyncio.to_thread(remove)
        if removed.voice_ids or removed.rows.get("jobs") or removed.rows.get("generations"):
            count += await asyncio.to_thread(self._drop_cover_cache)
        await asyncio.to_thread(journal.unlink, True)
        return PurgeReport(len(removed.voice_ids), removed.rows, count)

    def _drop_cover_cache(self) -> int:
        """Cover stages are keyed by content, not by member, so a song or voice of the
        member cannot be told apart in the cache: it all goes (it is only a cache)."""
        folder = self._data_dir / COVER_CACHE_FOLDER
        if not folder.is_dir():
            return 0
        count = sum(1 for path in folder.rglob("*") if path.is_file())
        shutil.rmtree(folder, ignore_errors=True)
        return count

    def _resolve(self, relative: str) -> Path | None:
        try:
            return self._library.path(relative)
        except ValueError:
            log.warning("not deleting %r: it points outside the data directory", relative)
            return None

    # retention ---------------------------------------------------------------------------
    async def expire_audio(self, days: int, *, now: datetime | None = None) -> RetentionReport:
        """Delete generated audio older than ``days`` days: the files history and jobs point
        at, and any other file under the generated-audio folders last written before then."""
        moment = (now or datetime.now(UTC)) - timedelta(days=days)
        report = RetentionReport(iso_utc(moment))
        expired = await self._store.personal.expire_outputs(report.cutoff)
        referenced = await self._store.personal.referenced_files()
        cutoff_epoch = moment.timestamp()
        paths = [path for path in map(self._resolve, expired) if path is not None]

        def remove() -> list[str]:
            gone = []
            for path in paths:
                if path.is_file():
                    path.unlink(missing_ok=True)
                    gone.append(self._library.relative(path))
            for name in GENERATED_AUDIO_DIRS:
                folder = self._data_dir / name
                if not folder.is_dir():
                    continue
                for path in sorted(folder.rglob("*")):
                    if not path.is_file() or path.stat().st_mtime >= cutoff_epoch:
                        continue
                    relative = self._library.relative(path)
                    if relative not in referenced:
                        path.unlink(missing_ok=True)
                        gone.append(relative)
                _remove_empty_folders(folder)
            return gone

        report.files_removed = await asyncio.to_thread(remove)
        if report.files_removed:
            log.info(
                "retention: removed %d generated audio file(s) older than %s",
                len(report.files_removed),
                report.cutoff,
            )
        return report


def _remove_empty_folders(root: Path) -> None:
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):  # not empty
            folder.rmdir()
