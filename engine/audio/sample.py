"""Turn one uploaded file into a clean, checked, level voice sample for enrolment."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from engine.audio.checks import QualityReport, check_voice_sample
from engine.audio.decode import _probe, decode
from engine.audio.errors import AudioRejectedError, DamagedFileError, RejectReason
from engine.audio.process import normalize_loudness, remove_dc, trim_silence
from engine.audio.types import Audio
from engine.audio.wav import read_wav_layout

SHORT_FILE_NOTE = (
    "The file's header promises more audio than the file holds: if the clip sounds cut "
    "short, export it again."
)
QUALITY_REASONS = frozenset(
    {
        RejectReason.SILENT,
        RejectReason.CLIPPED,
        RejectReason.NOISY,
        RejectReason.TOO_SHORT,
    }
)
"""Refusals that a damaged file explains better than the recording does (garbage reads as
noise or distortion); a tone or music is named as such even in a damaged file."""
TRAINING_MAX_RATE = 48_000
"""Training copies keep the upload's own rate up to this (RVC trains at 32-48 kHz)."""


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

    A WAV whose header claims more audio than the file holds is decoded as far as it goes
    (streaming tools leave such headers on good files). If what is there is unusable, the
    refusal names the damaged file (:class:`DamagedFileError`) rather than the recording.
    """
    audio = decode(
        path,
        sample_rate=sample_rate,
        max_bytes=max_bytes,
        max_seconds=max_seconds,
        timeout=timeout,
    )
    layout = read_wav_layout(path)
    overstated = layout is not None and layout.overstated
    audio = trim_silence(remove_dc(audio))
    try:
        report = check_voice_sample(audio, min_seconds=min_seconds, max_seconds=max_seconds)
    except AudioRejectedError as error:
        if layout is not None and overstated and error.reason in QUALITY_REASONS:
            raise DamagedFileError(
                layout.declared_bytes, layout.present_bytes, detail=error.message
            ) from error
        raise
    if layout is not None and overstated and not layout.streamed:
        report = dataclasses.replace(report, notes=[SHORT_FILE_NOTE, *report.notes])
    return normalize_loudness(audio), report


def probe_sample_rate(path: Path, timeout: float = 10.0) -> int | None:
    """The first audio stream's sample rate via ffprobe, or None if it does not say."""
    value = _probe(path, ["-select_streams", "a:0", "-show_entries", "stream=sample_rate"], timeout)
    return int(value) if value is not None and value.isdigit() and int(value) > 0 else None


def prepare_training_audio(
    path: Path,
    *,
    max_rate: int = TRAINING_MAX_RATE,
    max_bytes: int,
    max_seconds: float,
    timeout: float = 60.0,
) -> Audio:
    """``path`` at its own rate (at most ``max_rate``), centred, trimmed and
    loudness-normalised like an enrolment sample; blocking.

    For a clip :func:`prepare_voice_sample` already accepted: the checks are not repeated.
    """
    rate = min(probe_sample_rate(path, timeout) or max_rate, max_rate)
    audio = decode(
        path, sample_rate=rate, max_bytes=max_bytes, max_seconds=max_seconds, timeout=timeout
    )
    return normalize_loudness(trim_silence(remove_dc(audio)))
