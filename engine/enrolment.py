"""Enrolment's first half: an uploaded clip decoded, checked and stored (no model needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from engine.audio import prepare_voice_sample, write_wav
from engine.audio.sample import prepare_training_audio
from engine.tts.profile import PreparedSample, VoiceProfile, file_sha256
from engine.voices import store_prepared_sample

SAMPLE_RATE = 24_000
"""Voice samples are stored at the rate the TTS models read them."""


@dataclass(frozen=True, slots=True)
class SampleLimits:
    """Bounds on an uploaded clip, checked before and while decoding it."""

    max_bytes: int = 25 * 1024 * 1024
    min_seconds: float = 3.0
    max_seconds: float = 300.0
    decode_timeout: float = 60.0


def prepare_sample(source: Path, destination: Path, limits: SampleLimits) -> PreparedSample:
    """Decode, check and normalise one clip into ``destination`` (a WAV); blocking."""
    audio, report = prepare_voice_sample(
        source,
        sample_rate=SAMPLE_RATE,
        max_bytes=limits.max_bytes,
        min_seconds=limits.min_seconds,
        max_seconds=limits.max_seconds,
        timeout=limits.decode_timeout,
    )
    return store_prepared_sample(audio, report, destination)


@dataclass(frozen=True, slots=True)
class TrainingCopy:
    """A clip kept at the rate training needs (the upload's own, at most 48 kHz)."""

    path: Path
    duration_s: float
    sample_rate: int
    sha256: str


def keep_training_copy(source: Path, destination: Path, limits: SampleLimits) -> TrainingCopy:
    """Write ``source`` (a clip :func:`prepare_sample` accepted) into ``destination`` at its
    own rate up to 48 kHz, trimmed and levelled the same way; blocking.

    Enrolment samples are stored at 24 kHz for the TTS models, too low for a 40 kHz singing
    model: this copy is what training reads."""
    audio = prepare_training_audio(
        source,
        max_bytes=limits.max_bytes,
        max_seconds=limits.max_seconds,
        timeout=limits.decode_timeout,
    )
    write_wav(audio, destination)
    return TrainingCopy(destination, audio.duration, audio.sample_rate, file_sha256(destination))


class _SampleEnroller(Protocol):
    async def prepare_sample(
        self, source: Path, destination: Path, limits: SampleLimits
    ) -> PreparedSample: ...

    async def build_profile(
        self, folder: Path, samples: Sequence[PreparedSample], *, exaggeration: float = ...
    ) -> VoiceProfile: ...


async def enroll_samples(
    engine: _SampleEnroller, folder: Path, sources: Sequence[Path], limits: SampleLimits
) -> tuple[VoiceProfile, list[PreparedSample]]:
    """Prepare every sample into ``folder/samples`` and build the voice's profile, with any
    engine (embedded or remote)."""
    prepared = []
    for index, source in enumerate(sources):
        destination = folder / "samples" / f"{index:03d}.wav"
        prepared.append(await engine.prepare_sample(source, destination, limits))
    return await engine.build_profile(folder, prepared), prepared
