"""Whether a voice can speak with the configured model, and what to tell people when it
cannot yet: being prepared (with the rebuild's progress), could not be prepared, or (with
nothing stored to rebuild from) enrol it again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.store import Store
from bot.store.models import Voice
from bot.store.rebuilds import Rebuild, RebuildProgress, RebuildState
from bot.voices.files import VoiceLibrary
from bot.voices.rebuild.rebuilder import REBUILDABLE
from engine.api import VoiceEngine, VoiceNotEnrolledError, VoiceProfile

PREPARING = "being prepared for the new model"
NOT_PREPARED = "could not be prepared for the new model"


def preparing_text(progress: RebuildProgress | None) -> str:
    """``being prepared for the new model (n of m)``; no numbers before the round starts."""
    if progress is None or not progress.total:
        return PREPARING
    return f"{PREPARING} ({progress})"


class VoiceBeingPreparedError(VoiceNotEnrolledError):
    """The voice waits to be rebuilt for the configured model (or is being rebuilt)."""

    def __init__(self, voice: Voice, tts_model: str, progress: RebuildProgress | None) -> None:
        super().__init__(
            f"voice {voice.name!r} has no conditionals for {tts_model} yet: it is "
            f"{preparing_text(progress)} (or run `parrot voices rebuild {voice.id}`)"
        )
        self.voice_name = voice.name
        self.progress = progress

    def for_member(self) -> str:
        return (
            f"The voice **{self.voice_name}** is {preparing_text(self.progress)}; "
            "please try again in a few minutes."
        )


class VoiceNotPreparedError(VoiceNotEnrolledError):
    """Rebuilding the voice for the configured model failed (its samples are at fault)."""

    def __init__(self, voice: Voice, tts_model: str, detail: str | None) -> None:
        super().__init__(
            f"voice {voice.name!r} could not be rebuilt for {tts_model}: "
            f"{detail or 'no reason recorded'}; add a sample to it, or fix its samples and "
            f"run `parrot voices rebuild {voice.id}`"
        )
        self.voice_name = voice.name
        self.detail = detail or "no reason recorded"

    def for_member(self) -> str:
        return (
            f"The voice **{self.voice_name}** {NOT_PREPARED}; its owner can add a sample "
            "with `/voice add-sample` or enrol it again."
        )


def current_profile(library: VoiceLibrary, engine: VoiceEngine, voice: Voice) -> VoiceProfile:
    return engine.profile(library.folder(voice.id))


async def ready_profile(
    store: Store, library: VoiceLibrary, engine: VoiceEngine, voice: Voice
) -> VoiceProfile:
    """The voice's profile for the configured model, or the error that says why it has
    none: :class:`VoiceBeingPreparedError`, :class:`VoiceNotPreparedError`, or (nothing
    stored to rebuild it from) :class:`~engine.api.VoiceNotEnrolledError`."""
    profile = current_profile(library, engine, voice)
    if await asyncio.to_thread(lambda: profile.exists):
        return profile
    record = await store.voices.rebuilds.get(voice.id, profile.backend)
    raise await _not_ready(store, voice, profile.backend, record)


async def _not_ready(
    store: Store, voice: Voice, tts_model: str, record: Rebuild | None
) -> VoiceNotEnrolledError:
    if record is not None and record.state is RebuildState.FAILED:
        return VoiceNotPreparedError(voice, tts_model, record.detail)
    if record is not None and record.state is RebuildState.PENDING:
        return VoiceBeingPreparedError(
            voice, tts_model, await store.voices.rebuilds.progress(tts_model)
        )
    if voice.status in REBUILDABLE and await store.voices.samples(voice.id):
        return VoiceBeingPreparedError(voice, tts_model, None)  # queued at the next scan
    return VoiceNotEnrolledError(
        f"voice {voice.name!r} has no conditionals for {tts_model} and no samples to "
        "rebuild them from: enrol it again"
    )


async def preparation_notes(
    store: Store, library: VoiceLibrary, engine: VoiceEngine, voices: Sequence[Voice]
) -> dict[str, str]:
    """For the voices that cannot speak with the configured model yet, by id: what to show
    beside them (``being prepared for the new model (n of m)``, or ``could not be …``).

    Voices with nothing to rebuild from get no note (their use says "enrol it again")."""
    if not voices:
        return {}
    model = engine.backend_name
    missing = await asyncio.to_thread(
        lambda: [v for v in voices if not current_profile(library, engine, v).exists]
    )
    if not missing:
        return {}
    records = await store.voices.rebuilds.of_model(model)
    progress = await store.voices.rebuilds.progress(model)
    notes = {}
    for voice in missing:
        record = records.get(voice.id)
        if record is not None and record.state is RebuildState.FAILED:
            notes[voice.id] = NOT_PREPARED
        elif record is not None and record.state is RebuildState.PENDING:
            notes[voice.id] = preparing_text(progress)
        elif voice.status in REBUILDABLE and await store.voices.samples(voice.id):
            notes[voice.id] = PREPARING
    return notes
