"""Recordings uploaded for training only: checked like enrolment samples, kept at their
own rate, refused when they repeat a sample or another recording of the voice."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.store import Store
from bot.store.models import Consent, Voice
from bot.store.voices import new_id
from bot.training.data import training_audio_dir
from bot.voices.files import UPLOADS_FOLDER, VoiceLibrary
from engine.api import ParrotError, PreparedSample, SampleLimits, VoiceEngine, keep_training_copy


class DuplicateRecordingError(ParrotError, ValueError):
    """A recording with the same audio as a sample or recording the voice already has."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"the recording {name!r} repeats audio this voice already has; send a new recording"
        )


@dataclass(frozen=True, slots=True)
class Upload:
    path: Path
    """The downloaded file (the caller removes it)."""
    shown_name: str


@dataclass(frozen=True, slots=True)
class AddedRecording:
    id: str
    shown_name: str
    prepared: PreparedSample
    """The checked 24 kHz version's report (its file is gone): duration, speech, quality."""


class TrainingRecorder:
    """Checks uploads and stores them as the voice's training recordings, all or none."""

    def __init__(
        self, store: Store, library: VoiceLibrary, engine: VoiceEngine, limits: SampleLimits
    ) -> None:
        self._store = store
        self._library = library
        self._engine = engine
        self._limits = limits

    async def add(
        self, voice: Voice, uploads: Sequence[Upload], *, consent: Consent
    ) -> list[AddedRecording]:
        """Check each upload (decode bounds, speech checks, duplicates), keep its training
        copy, then write the rows together. A refusal leaves no file and no row."""
        if not uploads:
            return []
        known = {sample.sha256 for sample in await self._store.voices.samples(voice.id)}
        repository = self._store.training
        known |= {recording.sha256 for recording in await repository.recordings(voice.id)}
        folder = training_audio_dir(self._library, voice.id)
        scratch = self._library.voices_dir.parent / UPLOADS_FOLDER
        added: list[AddedRecording] = []
        written: list[Path] = []
        copies = []
        try:
            for upload in uploads:
                recording_id = new_id()
                check = scratch / f"{recording_id}-check.wav"  # swept if a crash leaves it
                written.append(check)
                prepared = await self._engine.prepare_sample(upload.path, check, self._limits)
                await asyncio.to_thread(check.unlink, True)
                if prepared.sha256 in known:
                    raise DuplicateRecordingError(upload.shown_name)
                known.add(prepared.sha256)
                target = folder / f"{recording_id}.wav"
                written.append(target)
                copies.append(
                    await asyncio.to_thread(keep_training_copy, upload.path, target, self._limits)
                )
                added.append(AddedRecording(recording_id, upload.shown_name, prepared))
            async with self._store.unit_of_work() as work:
                rows = work.training
                for recording, copy in zip(added, copies, strict=True):
                    await rows.add_recording(
                        recording_id=recording.id,
                        voice_id=voice.id,
                        path=self._library.relative(copy.path),
                        original_name=recording.shown_name[:200],
                        sha256=recording.prepared.sha256,
                        duration_s=copy.duration_s,
                        sample_rate=copy.sample_rate,
                        consent=consent,
                    )
        except BaseException:
            await asyncio.to_thread(_remove, written)
            raise
        return added


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
