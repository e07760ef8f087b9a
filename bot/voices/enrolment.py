"""Enrolment as one unit: samples and conditionals on disk first, then the rows together.

Each sample is stored twice: at 24 kHz for the TTS models, and at its upload's own rate
(at most 48 kHz) for training a singing model (:mod:`bot.training.data`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from bot.store import Store
from bot.store.audit import AuditAction, Who
from bot.store.models import Consent, Visibility, Voice, VoiceSource, VoiceStatus
from bot.store.voices import VoiceNameTakenError, new_id
from bot.training.data import sample_copy_path
from bot.voices.files import VoiceLibrary
from bot.voices.names import check_voice_name
from engine.api import (
    AudioRejectedError,
    PreparedSample,
    SampleLimits,
    VoiceEngine,
    keep_training_copy,
    load_prepared_sample,
)

log = logging.getLogger(__name__)


class VoiceEnroller:
    """Turns audio into a voice. Used by the CLI, the Discord commands and the presets."""

    def __init__(
        self, store: Store, library: VoiceLibrary, engine: VoiceEngine, limits: SampleLimits
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
        consent: Consent,
        who: Who,
        on_stage: Callable[[str], None] | None = None,
        original_names: list[str] | None = None,
    ) -> tuple[Voice, list[PreparedSample]]:
        """Check every sample, build the conditionals, then write the voice, its samples and
        the audit entry in one transaction; any failure leaves neither rows nor files behind.

        ``consent`` is how the enroller asserted it (every sample carries it too); ``who``
        goes into the audit trail."""
        name = check_voice_name(name)
        if not sources:
            raise ValueError("enrolment needs at least one audio sample")
        await self._check_name_free(name, owner_id)
        shown_names = original_names or [path.name for path in sources]
        voice_id = new_id()
        # The folder exists before the rows: the lock keeps any start-up sweep off it.
        async with self._library.enrolment(voice_id) as folder:
            try:
                prepared = await self._prepare_all(sources, folder, on_stage)
                if on_stage:
                    on_stage("analysing the voice")
                profile = await self._engine.build_profile(folder, prepared)
                async with self._store.unit_of_work() as work:
                    await work.voices.create(
                        voice_id=voice_id,
                        name=name,
                        owner_id=owner_id,
                        guild_id=guild_id,
                        visibility=visibility,
                        source=source,
                        status=VoiceStatus.READY,
                        tts_model=profile.backend,
                        conditionals=self._library.relative(profile.conditionals),
                        consent=consent,
                    )
                    for sample, shown_name in zip(prepared, shown_names, strict=True):
                        await work.voices.add_sample(
                            sample_id=sample.path.stem,
                            voice_id=voice_id,
                            path=self._library.relative(sample.path),
                            original_name=shown_name[:200],
                            sha256=sample.sha256,
                            duration_s=sample.duration_s,
                            sample_rate=sample.sample_rate,
                            consent=consent,
                        )
                    voice = await work.voices.get(voice_id)
                    assert voice is not None
                    detail = {"samples": len(prepared), "source": source.value}
                    await work.audit.record(AuditAction.ENROL, who, voice=voice, detail=detail)
            except BaseException:
                await self._library.remove_folder(voice_id)
                raise
        return voice, prepared

    async def _prepare_all(
        self, sources: list[Path], folder: Path, on_stage: Callable[[str], None] | None
    ) -> list[PreparedSample]:
        prepared: list[PreparedSample] = []
        for index, path in enumerate(sources, start=1):
            if on_stage:
                on_stage(f"checking sample {index}/{len(sources)}")
            sample_id = new_id()
            target = folder / "samples" / f"{sample_id}.wav"
            prepared.append(await self._engine.prepare_sample(path, target, self._limits))
            await self._keep_training_copy(
                path, sample_copy_path(self._library, folder.name, sample_id)
            )
        return prepared

    async def _keep_training_copy(self, source: Path, destination: Path) -> None:
        """Best effort: without the copy, training reads the 24 kHz sample (and says so)."""
        try:
            await asyncio.to_thread(keep_training_copy, source, destination, self._limits)
        except AudioRejectedError as error:
            log.warning("no training copy of %s: %s", destination.stem, error)

    async def add_sample(
        self,
        voice: Voice,
        source: Path,
        *,
        original_name: str | None,
        consent: Consent,
        who: Who,
        guild_id: int | None = None,
    ) -> tuple[Voice, PreparedSample]:
        """Check and store one more sample, then rebuild the voice from all of them.
        ``guild_id``: where it was asked (for the audit trail; the voice's home if None).

        The new conditionals replace the old file atomically; the sample's row is added
        only once they are written, and a failure removes the new sample file.
        """
        folder = self._library.folder(voice.id)
        sample_id = new_id()
        target = folder / "samples" / f"{sample_id}.wav"
        copy = sample_copy_path(self._library, voice.id, sample_id)
        try:
            prepared = await self._engine.prepare_sample(source, target, self._limits)
            await self._keep_training_copy(source, copy)
            existing = [
                await asyncio.to_thread(load_prepared_sample, self._library.path(sample.path))
                for sample in await self._store.voices.samples(voice.id)
            ]
            profile = await self._engine.build_profile(folder, [*existing, prepared])
            async with self._store.unit_of_work() as work:
                await work.voices.add_sample(
                    sample_id=sample_id,
                    voice_id=voice.id,
                    path=self._library.relative(target),
                    original_name=(original_name or source.name)[:200],
                    sha256=prepared.sha256,
                    duration_s=prepared.duration_s,
                    sample_rate=prepared.sample_rate,
                    consent=consent,
                )
                await work.voices.mark_ready(
                    voice.id,
                    conditionals=self._library.relative(profile.conditionals),
                    tts_model=profile.backend,
                )
                await work.audit.record(
                    AuditAction.ADD_SAMPLE,
                    who,
                    voice=voice,
                    guild_id=guild_id,
                    detail={"samples": len(existing) + 1},
                )
        except BaseException:
            await asyncio.to_thread(target.unlink, True)
            await asyncio.to_thread(copy.unlink, True)
            raise
        updated = await self._store.voices.get(voice.id)
        assert updated is not None
        return updated, prepared

    async def _check_name_free(self, name: str, owner_id: int | None) -> None:
        for existing in await self._store.voices.find(name):
            if existing.name.lower() == name.lower() and existing.owner_id == owner_id:
                raise VoiceNameTakenError(f"a voice named {name!r} already exists")
