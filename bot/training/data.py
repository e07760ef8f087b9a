"""A voice's training data on disk, inside its folder (so deleting the voice deletes it):

``training/audio/``  the clips training reads, at their upload's rate (at most 48 kHz):
                     ``<sample id>.wav`` beside each enrolment sample, ``<recording id>.wav``
                     for recordings uploaded for training only (rows: ``training_recordings``);
``training/work/<job id>/``   a run's prepared set and resumable checkpoints;
``training/model/<job id>/``  a run's exported model, until it is attached to the voice.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.store import Store
from bot.store.models import Voice
from bot.voices.files import VoiceLibrary
from engine.api import NotEnoughAudioError, clean_speech_seconds

TRAINING_FOLDER = "training"


def training_audio_dir(library: VoiceLibrary, voice_id: str) -> Path:
    return library.folder(voice_id) / TRAINING_FOLDER / "audio"


def sample_copy_path(library: VoiceLibrary, voice_id: str, sample_id: str) -> Path:
    """Where an enrolment sample's training-rate copy lives."""
    return training_audio_dir(library, voice_id) / f"{sample_id}.wav"


def work_dir(library: VoiceLibrary, voice_id: str, job_id: str) -> Path:
    return library.folder(voice_id) / TRAINING_FOLDER / "work" / job_id


def output_dir(library: VoiceLibrary, voice_id: str, job_id: str) -> Path:
    return library.folder(voice_id) / TRAINING_FOLDER / "model" / job_id


@dataclass(frozen=True, slots=True)
class TrainingSources:
    """What a training of one voice reads."""

    paths: list[Path]
    seconds: float
    """Their trimmed length: an upper bound of the clean speech the engine will find."""
    low_rate_samples: int
    """Samples enrolled before training copies were kept: read at 24 kHz, duller."""
    recordings: int
    """Recordings uploaded for training only."""


async def training_sources(store: Store, library: VoiceLibrary, voice: Voice) -> TrainingSources:
    """The voice's samples (their training copies where kept, else the 24 kHz files) and
    its training recordings."""
    paths: list[Path] = []
    seconds = 0.0
    low_rate = 0
    for sample in await store.voices.samples(voice.id):
        copy = sample_copy_path(library, voice.id, sample.id)
        if await asyncio.to_thread(copy.is_file):
            paths.append(copy)
        else:
            paths.append(library.path(sample.path))
            low_rate += 1
        seconds += sample.duration_s
    recordings = await store.training.recordings(voice.id)
    for recording in recordings:
        paths.append(library.path(recording.path))
        seconds += recording.duration_s
    return TrainingSources(paths, seconds, low_rate, len(recordings))


async def measured_speech(sources: TrainingSources, minimum_s: float) -> float:
    """Seconds of clean speech in ``sources``, measured as the engine will before training
    (no model); raises ``NotEnoughAudioError`` with how much more is needed when short."""
    if sources.seconds < minimum_s:  # not even the trimmed length: no need to decode
        raise NotEnoughAudioError(sources.seconds, minimum_s)
    speech_s = await asyncio.to_thread(clean_speech_seconds, sources.paths)
    if speech_s < minimum_s:
        raise NotEnoughAudioError(speech_s, minimum_s)
    return speech_s


async def trained_singer(store: Store, voice: Voice) -> dict[str, Any]:
    """What a cover job's params keep to say that the voice's trained model sang
    (``trained_epochs``; see :func:`bot.exts.covers.messages.singer_text`), or nothing when
    the voice sings with an uploaded model or none."""
    trained = await store.training.trained_model(voice.id)
    if trained is None or voice.rvc_model != trained.rvc_model:
        return {}
    return {"trained_epochs": trained.epochs}


def remove_run_folders(library: VoiceLibrary, voice_id: str, job_id: str) -> None:
    """A run's checkpoints and export, once the job has ended (blocking)."""
    for folder in (work_dir(library, voice_id, job_id), output_dir(library, voice_id, job_id)):
        shutil.rmtree(folder, ignore_errors=True)


def sweep_run_folders(library: VoiceLibrary, keep: set[str]) -> list[Path]:
    """Remove every run folder whose job is not in ``keep`` (blocking); returns them."""
    removed: list[Path] = []
    if not library.voices_dir.is_dir():
        return removed
    for kind in ("work", "model"):
        for folder in library.voices_dir.glob(f"*/{TRAINING_FOLDER}/{kind}/*"):
            if folder.is_dir() and folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed
