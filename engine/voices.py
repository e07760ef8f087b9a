"""Turning prepared samples into files: one normalised WAV each, and a combined reference."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile

from engine.audio import Audio, QualityReport, assess, concatenate, write_wav
from engine.tts.profile import REFERENCE_NAME, PreparedSample, file_sha256

MAX_REFERENCE_SECONDS = 30.0
"""Chatterbox reads 10 s (S3Gen) and 6 s (T3 prompt); the speaker embedding uses it all."""


def store_prepared_sample(audio: Audio, report: QualityReport, destination: Path) -> PreparedSample:
    write_wav(audio, destination)
    return PreparedSample(
        destination, audio.duration, audio.sample_rate, file_sha256(destination), report
    )


def load_prepared_sample(path: Path) -> PreparedSample:
    """A stored, already normalised sample measured again (to rank it in the reference)."""
    audio = _read(path)
    return PreparedSample(path, audio.duration, audio.sample_rate, file_sha256(path), assess(audio))


def _read(path: Path) -> Audio:
    samples, rate = soundfile.read(path, dtype="float32", always_2d=False)
    if samples.ndim > 1:
        samples = samples.mean(axis=1)
    return Audio(np.ascontiguousarray(samples, dtype=np.float32), int(rate))


def combine_reference(folder: Path, samples: Sequence[PreparedSample]) -> tuple[Path, float]:
    """Best samples first (by estimated SNR), joined with short gaps, capped at 30 s.

    The first seconds matter most to Chatterbox, so the cleanest clip leads.
    """
    ordered = sorted(samples, key=lambda s: s.quality.snr_db, reverse=True)
    clips = [_read(sample.path) for sample in ordered]
    combined = concatenate(clips, gap_s=0.25)
    limit = int(MAX_REFERENCE_SECONDS * combined.sample_rate)
    if len(combined.samples) > limit:
        combined = Audio(combined.samples[:limit], combined.sample_rate)
    reference = folder / REFERENCE_NAME
    write_wav(combined, reference)
    return reference, combined.duration
