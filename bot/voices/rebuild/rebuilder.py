"""Rebuilding voices from their stored samples for the configured TTS model.

Conditionals are per model (``conds-<model>.pt`` in the voice's folder) and are never
deleted by a rebuild, so switching back to an earlier model needs no work. One voice at a
time, at the executor's enrolment priority (speech goes first). The queue lives in the
database (:mod:`bot.store.rebuilds`): a restart continues with the voices still waiting,
and a voice whose samples fail is marked failed with the reason instead of being tried at
every start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.store import Store
from bot.store.audit import AuditAction, Who
from bot.store.models import Voice, VoiceSample, VoiceStatus
from bot.store.rebuilds import RebuildState
from bot.store.voices import VoiceRepository
from bot.voices.files import VoiceLibrary
from engine.api import (
    DeviceUnavailableError,
    EngineBusyError,
    JobCancelledError,
    ModelNotDownloadedError,
    ParrotError,
    PreparedSample,
    VoiceEngine,
    VoiceProfile,
    load_prepared_sample,
)

log = logging.getLogger(__name__)

REBUILDABLE = (VoiceStatus.READY, VoiceStatus.PENDING)
"""Statuses of voices that are rebuilt (a pending one, e.g. an archive imported without
conditionals, becomes ready)."""
BUSY_RETRY_S = 5.0
"""How long to wait when the executor's queue is full of other work."""
STOPS_THE_RUN: tuple[type[BaseException], ...] = (
    ModelNotDownloadedError,
    DeviceUnavailableError,
    JobCancelledError,
)
"""Failures of the engine, not of a voice: the run stops and the voices keep waiting."""


class SamplesProblemError(ParrotError, ValueError):
    """A voice's stored samples cannot be rebuilt from; the message says why."""


@dataclass(frozen=True, slots=True)
class RebuildOutcome:
    voice: Voice
    state: RebuildState
    detail: str = ""
    """Why it failed."""

    @property
    def ok(self) -> bool:
        return self.state is RebuildState.DONE


@dataclass(slots=True)
class RebuildReport:
    tts_model: str
    outcomes: list[RebuildOutcome] = field(default_factory=list)

    @property
    def rebuilt(self) -> list[RebuildOutcome]:
        return [outcome for outcome in self.outcomes if outcome.ok]

    @property
    def failed(self) -> list[RebuildOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]

    def summary(self) -> str:
        text = f"{len(self.rebuilt)} of {len(self.outcomes)} voice(s) rebuilt for {self.tts_model}"
        if self.failed:
            text += "; " + "; ".join(f"{o.voice.name} failed: {o.detail}" for o in self.failed)
        return text


OnVoice = Callable[[Voice], None]
OnOutcome = Callable[[RebuildOutcome], None]


class VoiceRebuilder:
    """Finds the voices the configured model has no conditionals for and rebuilds them."""

    def __init__(self, store: Store, library: VoiceLibrary, engine: VoiceEngine, who: Who) -> None:
        self._store = store
        self._library = library
        self._engine = engine
        self._who = who

    @property
    def tts_model(self) -> str:
        """The name conditionals are filed under for the configured model."""
        return self._engine.backend_name

    def profile(self, voice_id: str) -> VoiceProfile:
        return self._engine.profile(self._library.folder(voice_id))

    # finding and queueing --------------------------------------------------------------------
    async def missing(self) -> list[Voice]:
        """Voices with samples but no conditionals for the configured model.

        A voice that has them (made for this model before a switch away and back) but whose
        row names another model's file is pointed at them here: no model work needed."""
        voices = await self._store.voices.rebuildable()
        present = await asyncio.to_thread(
            lambda: {v.id for v in voices if self.profile(v.id).exists}
        )
        for voice in voices:
            if voice.id in present and (
                voice.tts_model != self.tts_model or voice.status is not VoiceStatus.READY
            ):
                await self._point_at(voice, self.profile(voice.id), finished=False)
        return [voice for voice in voices if voice.id not in present]

    async def queue_missing(self, *, retry_failed: bool = False) -> list[str]:
        """Queue every voice missing conditionals (continuing a round under way): the ids
        now waiting, in order. Failed voices are queued again only with ``retry_failed``."""
        missing = [voice.id for voice in await self.missing()]
        return await self._store.voices.rebuilds.queue(
            self.tts_model, missing, retry_failed=retry_failed
        )

    async def queue(self, voices: Sequence[Voice]) -> list[str]:
        """Queue these voices (rebuilt even if they have conditionals): their ids."""
        ids = [voice.id for voice in voices]
        await self._store.voices.rebuilds.queue(self.tts_model, ids, retry_failed=True)
        return ids

    # rebuilding ------------------------------------------------------------------------------
    async def run(
        self,
        voice_ids: Sequence[str],
        *,
        force: bool = False,
        on_voice: OnVoice | None = None,
        on_outcome: OnOutcome | None = None,
    ) -> RebuildReport:
        """Rebuild the voices one at a time. Without ``force`` a voice that meanwhile got
        conditionals for the model (a new sample, another process) is only marked done.

        Engine failures (model not downloaded, device gone, cancelled) end the run and
        leave the rest waiting; a voice's own failure is recorded and the run goes on."""
        report = RebuildReport(self.tts_model)
        for voice_id in voice_ids:
            voice = await self._store.voices.get(voice_id)
            if voice is None:  # deleted meanwhile: its queue row went with it
                continue
            if on_voice is not None:
                on_voice(voice)
            outcome = await self._rebuild_queued(voice, force=force)
            if outcome is None:
                continue
            report.outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
        return report

    async def _rebuild_queued(self, voice: Voice, *, force: bool) -> RebuildOutcome | None:
        model = self.tts_model
        if voice.status not in REBUILDABLE:  # retired or failed since it was queued
            await self._store.voices.rebuilds.forget(voice.id, model)
            return None
        profile = self.profile(voice.id)
        if not force and await asyncio.to_thread(lambda: profile.exists):
            await self._point_at(voice, profile)
            return RebuildOutcome(voice, RebuildState.DONE)
        return await self.rebuild(voice)

    async def rebuild(self, voice: Voice) -> RebuildOutcome:
        """Rebuild one voice for the configured model from its stored samples."""
        model = self.tts_model
        try:
            profile, samples = await self._build(voice)
        except STOPS_THE_RUN:
            raise
        except Exception as error:  # the voice's own failure: recorded, not retried
            if await self._store.voices.get(voice.id) is None:
                return await self._deleted(voice)
            detail = describe_failure(error)
            if not isinstance(error, SamplesProblemError):
                log.exception("voice %s could not be rebuilt for %s", voice.id, model)
            await self._store.voices.rebuilds.finish(voice.id, model, RebuildState.FAILED, detail)
            log.warning("voice %s (%s) not rebuilt for %s: %s", voice.id, voice.name, model, detail)
            return RebuildOutcome(voice, RebuildState.FAILED, detail)
        async with self._store.unit_of_work() as work:
            current = await work.voices.get(voice.id)
            if current is not None:
                await self._point(work.voices, current, profile)
                await work.voices.rebuilds.finish(voice.id, model, RebuildState.DONE)
                await work.audit.record(
                    AuditAction.REBUILD,
                    self._who,
                    voice=current,
                    detail={"tts_model": model, "samples": samples, "was": current.tts_model},
                )
        if current is None:
            return await self._deleted(voice)
        log.info("voice %s (%s) rebuilt for %s", voice.id, voice.name, model)
        return RebuildOutcome(current, RebuildState.DONE)

    async def _deleted(self, voice: Voice) -> RebuildOutcome:
        """Deleted while it was rebuilt: its rows are gone, so the files just written go."""
        await self._library.remove_folder(voice.id)
        return RebuildOutcome(voice, RebuildState.FAILED, "the voice was deleted")

    async def _build(self, voice: Voice) -> tuple[VoiceProfile, int]:
        """The conditionals from every stored sample; once more if a sample was added or
        removed meanwhile, so that the file matches the samples."""
        folder = self._library.folder(voice.id)
        samples = await self._store.voices.samples(voice.id)
        for _ in range(3):
            if not samples:
                raise SamplesProblemError("it has no stored samples to rebuild from")
            prepared = [await self._load(sample, index) for index, sample in enumerate(samples, 1)]
            profile = await self._build_profile(folder, prepared)
            now = await self._store.voices.samples(voice.id)
            if [s.id for s in now] == [s.id for s in samples]:
                break
            samples = now
        return profile, len(samples)

    async def _build_profile(self, folder: Path, prepared: list[PreparedSample]) -> VoiceProfile:
        while True:
            try:
                return await self._engine.build_profile(folder, prepared)
            except EngineBusyError:  # speech and covers fill the queue: wait for room
                await asyncio.sleep(BUSY_RETRY_S)

    async def _load(self, sample: VoiceSample, index: int) -> PreparedSample:
        shown = sample.original_name or f"sample {index}"
        try:
            path = self._library.path(sample.path)
        except ValueError:
            raise SamplesProblemError(f"{shown} is stored outside the data directory") from None
        if not await asyncio.to_thread(path.is_file):
            raise SamplesProblemError(f"{shown} is missing from the voice's folder")
        try:
            return await asyncio.to_thread(load_prepared_sample, path)
        except Exception as error:  # soundfile's errors: a damaged file
            raise SamplesProblemError(f"{shown} cannot be read ({error})") from error

    async def _point_at(
        self, voice: Voice, profile: VoiceProfile, *, finished: bool = True
    ) -> None:
        """Point the voice's row at its conditionals for the model (no model work), and
        mark its queued rebuild ``finished``."""
        async with self._store.unit_of_work() as work:
            current = await work.voices.get(voice.id)
            if current is not None:
                await self._point(work.voices, current, profile)
                if finished:
                    await work.voices.rebuilds.finish(voice.id, self.tts_model, RebuildState.DONE)

    async def _point(self, voices: VoiceRepository, voice: Voice, profile: VoiceProfile) -> None:
        conditionals = self._library.relative(profile.conditionals)
        if voice.status is VoiceStatus.PENDING:
            await voices.mark_ready(voice.id, conditionals=conditionals, tts_model=profile.backend)
        else:
            await voices.set_conditionals(voice.id, conditionals, profile.backend)


def describe_failure(error: BaseException) -> str:
    """Why a voice could not be rebuilt, in words for its owner and the bot owner."""
    if isinstance(error, ParrotError):
        return error.for_operator()
    text = str(error).strip()
    reason = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return f"the model could not analyse its samples ({reason})"
