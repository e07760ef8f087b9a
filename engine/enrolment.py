"""Enrolment's first half: an uploaded clip decoded, checked and stored (no model needed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.audio import prepare_voice_sample
from engine.tts.profile import PreparedSample
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
