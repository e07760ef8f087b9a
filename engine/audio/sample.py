"""Turn one uploaded file into a clean, checked, level voice sample for enrolment."""

from __future__ import annotations

from pathlib import Path

from engine.audio.checks import QualityReport, check_voice_sample
from engine.audio.decode import decode
from engine.audio.process import normalize_loudness, remove_dc, trim_silence
from engine.audio.types import Audio


def prepare_voice_sample(
    path: Path,
    *,
    sample_rate: int = 24000,
    max_bytes: int,
    min_seconds: float,
    max_seconds: float,
    timeout: float = 60.0,
) -> tuple[Audio, QualityReport]:
    """Decode, centre, trim, check and loudness-normalise ``path``; blocking.

    Raises :class:`~engine.audio.errors.AudioRejectedError` with a message for the user.
    The report describes the trimmed clip before normalisation.
    """
    audio = decode(
        path,
        sample_rate=sample_rate,
        max_bytes=max_bytes,
        max_seconds=max_seconds,
        timeout=timeout,
    )
    audio = trim_silence(remove_dc(audio))
    report = check_voice_sample(audio, min_seconds=min_seconds, max_seconds=max_seconds)
    return normalize_loudness(audio), report
