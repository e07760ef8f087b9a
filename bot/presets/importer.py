"""Turning the ``references/`` folder into preset voices, once per version of each file.

Every reference goes through :class:`~bot.voices.enrolment.VoiceEnroller`, the path
uploads take.
A changed reference is enrolled as a new, hidden voice first; only when that succeeded does
it take the preset's place (defaults and history follow it), so a broken replacement file
never silences a preset that worked. A removed reference retires its voice.

Consent: the bot owner placed the file (``preset``). Every change lands in the audit trail
as Parrot's own (``Who.system()``), in the same transaction as the change.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from bot.presets.sources import ReferenceScan, ReferenceSource, scan_references
from bot.store import Store
from bot.store.audit import AuditAction, Who
from bot.store.models import Consent, ConsentPath, Visibility, Voice, VoiceSource, VoiceStatus
from bot.store.presets import Preset, PresetRepository, PresetStatus
from bot.store.voices import VoiceNameTakenError
from bot.voices.enrolment import VoiceEnroller
from bot.voices.files import VoiceLibrary
from bot.voices.names import VoiceNameError
from bot.voices.removal import delete_voice
from engine.api import AudioRejectedError, SampleLimits, VoiceEngine

log = logging.getLogger(__name__)

RETIRED_DETAIL = "its file was removed from the references folder"


class PresetAction(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    RESTORED = "restored"
    RETIRED = "retired"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Something in the folder that is not a voice (reported, not a failure)."""


@dataclass(frozen=True, slots=True)
class PresetOutcome:
    name: str
    source: str
    action: PresetAction
    detail: str = ""


@dataclass(slots=True)
class ImportReport:
    folder: Path
    folder_exists: bool
    outcomes: list[PresetOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[PresetOutcome]:
        return [o for o in self.outcomes if o.action is PresetAction.FAILED]

    def count(self, action: PresetAction) -> int:
        return sum(1 for o in self.outcomes if o.action is action)

    def summary(self) -> str:
        parts = [
            f"{self.count(action)} {action}"
            for action in PresetAction
            if self.count(action) and action is not PresetAction.SKIPPED
        ]
        return ", ".join(parts) or "no references"


Stage = Callable[[str, str], None]
"""Called with (preset name, what is happening) while references are enrolled."""


def describe_error(error: Exception) -> str:
    """Why a reference could not become a voice, in words for the bot owner."""
    if isinstance(error, AudioRejectedError):
        return error.message
    if isinstance(error, VoiceNameTakenError):
        return f"{error}, and it is not a preset: rename the file or that voice"
    if isinstance(error, VoiceNameError | FileNotFoundError | ValueError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class PresetImporter:
    """Brings the preset voices in line with the references folder."""

    def __init__(
        self,
        store: Store,
        library: VoiceLibrary,
        engine: VoiceEngine,
        limits: SampleLimits,
        references_dir: Path,
    ) -> None:
        self._store = store
        self._library = library
        self._engine = engine
        self._enroller = VoiceEnroller(store, library, engine, limits)
        self._folder = references_dir

    async def import_all(self, on_stage: Stage | None = None) -> ImportReport:
        scan = await asyncio.to_thread(scan_references, self._folder)
        report = ImportReport(self._folder, scan.exists)
        known = {preset.name.lower(): preset for preset in await self._store.presets.all()}
        for source in scan.sources:
            outcome = await self._import_one(source, known.get(source.name.lower()), on_stage)
            report.outcomes.append(outcome)
        await self._record_problems(scan, report)
        if scan.exists:
            seen = {s.name.lower() for s in scan.sources}
            seen |= {p.name.lower() for p in scan.problems if p.name}
            for key, preset in known.items():
                if key not in seen:
                    retired = await self._retire(preset)
                    if retired is not None:
                        report.outcomes.append(retired)
        else:
            log.warning(
                "the references folder %s does not exist; presets left as they are", self._folder
            )
        for failure in report.failed:
            log.warning("preset %s (%s) failed: %s", failure.name, failure.source, failure.detail)
        return report

    async def _record_problems(self, scan: ReferenceScan, report: ImportReport) -> None:
        for problem in scan.problems:
            if problem.name is None:
                skipped = PresetAction.SKIPPED
                report.outcomes.append(
                    PresetOutcome(problem.source, problem.source, skipped, problem.reason)
                )
                continue
            await self._store.presets.mark_failed(problem.name, problem.source, "", problem.reason)
            report.outcomes.append(
                PresetOutcome(problem.name, problem.source, PresetAction.FAILED, problem.reason)
            )

    async def _import_one(
        self, source: ReferenceSource, record: Preset | None, on_stage: Stage | None
    ) -> PresetOutcome:
        voice = None
        if record is not None and record.voice_id is not None:
            voice = await self._store.voices.get(record.voice_id)
        if (
            voice is not None
            and record is not None
            and record.sha256 == source.sha256
            and record.status is not PresetStatus.FAILED
            and self._engine.profile(self._library.folder(voice.id)).exists
        ):
            if voice.status is VoiceStatus.RETIRED:
                await self._restore(source, voice)
                return PresetOutcome(source.name, source.source, PresetAction.RESTORED)
            return PresetOutcome(source.name, source.source, PresetAction.UNCHANGED)
        try:
            if voice is None:
                new = await self._enroll(source, source.name, Visibility.GLOBAL, on_stage)
                await self._save(source, new.id)
                action = PresetAction.ADDED
            else:
                await self._replace(source, voice, on_stage)
                action = PresetAction.UPDATED
        except Exception as error:  # reported per reference; the others still import
            if not isinstance(error, AudioRejectedError | VoiceNameError | VoiceNameTakenError):
                log.exception("preset %s could not be enrolled", source.name)
            detail = describe_error(error)
            await self._store.presets.mark_failed(source.name, source.source, source.sha256, detail)
            return PresetOutcome(source.name, source.source, PresetAction.FAILED, detail)
        log.info("preset %s %s from %s", source.name, action, source.source)
        return PresetOutcome(source.name, source.source, action)

    async def _enroll(
        self,
        source: ReferenceSource,
        name: str,
        visibility: Visibility,
        on_stage: Stage | None,
    ) -> Voice:
        voice, _ = await self._enroller.enroll(
            name,
            list(source.files),
            owner_id=None,
            guild_id=None,
            visibility=visibility,
            source=VoiceSource.PRESET,
            consent=Consent.now(ConsentPath.PRESET),
            who=Who.system(),
            on_stage=(lambda stage: on_stage(source.name, stage)) if on_stage else None,
            original_names=[path.name for path in source.files],
        )
        return voice

    async def _replace(self, source: ReferenceSource, old: Voice, on_stage: Stage | None) -> None:
        """Enrol the new version hidden (private, no owner; its consent is the preset's
        too), then swap it in."""
        hidden_name = f"preset-update-{secrets.token_hex(4)}"
        new = await self._enroll(source, hidden_name, Visibility.PRIVATE, on_stage)
        try:
            # One transaction: defaults and history that pointed at the old voice move to
            # the new one (so nobody's choice is lost), the old voice's rows go, and the new
            # voice takes the preset's name and becomes global.
            async with self._store.unit_of_work() as work:
                await work.settings.move_defaults(old.id, new.id)
                await work.generations.move_to_voice(old.id, new.id)
                await work.voices.delete(old.id)
                await work.voices.make_global(new.id, source.name)
                await _save_ready(work.presets, source, new.id)
                await work.audit.record(
                    AuditAction.DELETE, Who.system(), voice=old, detail={"replaced_by": new.id}
                )
                replacement = await work.voices.get(new.id)
                assert replacement is not None
                await work.audit.record(
                    AuditAction.REPLACE,
                    Who.system(),
                    voice=replacement,
                    detail={"replaces": old.id, "source": source.source},
                )
        except BaseException:
            await self._discard(new)
            raise
        await self._library.remove_folder(old.id)

    async def _discard(self, new: Voice) -> None:
        """Remove a replacement that could not take its preset's place."""
        detail = {"reason": "replacement failed"}
        await delete_voice(self._store, self._library, new, Who.system(), detail=detail)

    async def _restore(self, source: ReferenceSource, voice: Voice) -> None:
        async with self._store.unit_of_work() as work:
            await work.voices.set_status(voice.id, VoiceStatus.READY)
            await _save_ready(work.presets, source, voice.id)
            await work.audit.record(
                AuditAction.RESTORE, Who.system(), voice=voice, detail={"source": source.source}
            )

    async def _save(self, source: ReferenceSource, voice_id: str) -> None:
        await _save_ready(self._store.presets, source, voice_id)

    async def _retire(self, preset: Preset) -> PresetOutcome | None:
        if preset.status is PresetStatus.RETIRED:
            return None
        voice = await self._store.voices.get(preset.voice_id) if preset.voice_id else None
        if voice is None:  # a reference that never worked: nothing to retire, just forget it
            await self._store.presets.delete(preset.name)
            return PresetOutcome(preset.name, preset.source, PresetAction.RETIRED, "removed")
        async with self._store.unit_of_work() as work:
            await work.voices.set_status(voice.id, VoiceStatus.RETIRED, RETIRED_DETAIL)
            await work.presets.save(
                name=preset.name,
                source=preset.source,
                voice_id=voice.id,
                sha256=preset.sha256,
                status=PresetStatus.RETIRED,
            )
            await work.audit.record(
                AuditAction.RETIRE, Who.system(), voice=voice, detail={"source": preset.source}
            )
        log.info("preset %s retired: %s", preset.name, RETIRED_DETAIL)
        return PresetOutcome(preset.name, preset.source, PresetAction.RETIRED)


async def _save_ready(presets: PresetRepository, source: ReferenceSource, voice_id: str) -> None:
    """Record ``source`` as imported, in service as the voice ``voice_id``."""
    await presets.save(
        name=source.name,
        source=source.source,
        voice_id=voice_id,
        sha256=source.sha256,
        status=PresetStatus.READY,
    )
