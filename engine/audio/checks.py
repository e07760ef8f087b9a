"""Measure a voice sample and refuse the ones that would clone badly."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.audio.character import SPEECH_LIKE, SoundCharacter, characterise
from engine.audio.errors import (
    AudioRejectedError,
    NotSpeechError,
    RejectReason,
    format_seconds,
)
from engine.audio.types import Audio

FRAME_S = 0.02
FLOOR_DB = -100.0  # digital silence reads as this, not -inf
CLIP_LEVEL = 0.99

SILENT_PEAK_DB = -50.0  # a peak below this is silence
ACTIVE_GATE_DB = -55.0  # frames quieter than this never count as speech
ACTIVE_RANGE_DB = 35.0  # ...nor frames this far below the speech level
ACTIVE_ABOVE_FLOOR_DB = 6.0  # ...nor frames this close to the noise floor
NOISE_PERCENTILE = 10.0
SPEECH_PERCENTILE = 95.0

MAX_CLIPPED_FRACTION = 0.01
MAX_CLIP_RUN_S = 0.002  # a flat top this long never happens in an unclipped recording
MIN_SNR_DB = 10.0  # below this the clip is mostly steady noise (white noise reads ~1 dB)

GOOD_SNR_DB = 25.0
FAIR_SNR_DB = 15.0
AUDIBLE_NOISE_DB = -45.0  # quietest frames above this: the background is audible
GOOD_SPEECH_S = 8.0
FAIR_SPEECH_S = 3.0
QUIET_PEAK_DB = -20.0
NOTE_CLIPPED_FRACTION = 0.001
MUSIC_NOTE = (
    "It sounds like music: a voice learnt from a song picks up the instruments and the "
    "singing style; speech on its own, without music, works best."
)


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Measurements of one clip and a coarse verdict with tips for the uploader."""

    duration_s: float
    speech_s: float
    peak_db: float
    rms_db: float
    clipped_fraction: float
    snr_db: float
    verdict: str  # "good" | "fair" | "poor"
    notes: list[str] = field(default_factory=list)
    longest_clip_run_s: float = 0.0
    quietest_db: float = FLOOR_DB
    """Level of the quietest 5 % of 20 ms frames: the background between words."""
    character: SoundCharacter = SPEECH_LIKE
    """How tone-like and music-like the clip is (see :mod:`engine.audio.character`)."""

    @property
    def sounds_like(self) -> str:
        """ "speech", "music" or "tone"."""
        return _sounds_like(self.character)


def _db(value: float | np.ndarray, *, power: bool) -> np.ndarray:
    factor = 10.0 if power else 20.0
    floor = 10.0 ** (FLOOR_DB / factor)
    decibels: np.ndarray = factor * np.log10(np.maximum(value, floor))
    return decibels


def frame_levels(audio: Audio, frame_s: float = FRAME_S) -> np.ndarray:
    """RMS level in dBFS of consecutive ``frame_s`` frames (the last partial frame dropped)."""
    size = max(1, round(frame_s * audio.sample_rate))
    count = len(audio) // size
    if count == 0:
        count, size = 1, max(1, len(audio))
    frames = audio.samples[: count * size].astype(np.float64).reshape(count, size)
    return _db(np.mean(frames**2, axis=1), power=True)


def _longest_run(mask: np.ndarray) -> int:
    if not mask.any():
        return 0
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return int((ends - starts).max())


def _verdict(snr_db: float, speech_s: float, sounds_like: str) -> str:
    """A tone is never usable, and a song is at best "fair": its level measures look clean
    while the voice in it is mixed with instruments."""
    if sounds_like == "tone":
        return "poor"
    if snr_db >= GOOD_SNR_DB and speech_s >= GOOD_SPEECH_S and sounds_like == "speech":
        return "good"
    if snr_db >= FAIR_SNR_DB and speech_s >= FAIR_SPEECH_S:
        return "fair"
    return "poor"


def _sounds_like(character: SoundCharacter) -> str:
    return "tone" if character.is_tone else "music" if character.is_music else "speech"


def _notes(
    peak_db: float,
    snr_db: float,
    speech_s: float,
    clipped: float,
    quietest_db: float,
    sounds_like: str,
) -> list[str]:
    notes: list[str] = [MUSIC_NOTE] if sounds_like == "music" else []
    if peak_db < QUIET_PEAK_DB:
        notes.append("The recording is quiet: record closer to the mic.")
    if snr_db < GOOD_SNR_DB and quietest_db > AUDIBLE_NOISE_DB:
        notes.append("Background noise is audible: record in a quieter room, closer to the mic.")
    if clipped > NOTE_CLIPPED_FRACTION:
        notes.append("Some peaks are clipped: lower the input volume or move back a little.")
    if speech_s < GOOD_SPEECH_S:
        notes.append("Add a longer sample: 10 to 30 s of clear speech works best.")
    return notes


def assess(audio: Audio) -> QualityReport:
    """Measure level, clipping, active speech and an SNR estimate; never raises."""
    samples = audio.samples
    if len(samples) == 0:
        return QualityReport(0.0, 0.0, FLOOR_DB, FLOOR_DB, 0.0, 0.0, "poor", [])
    magnitude = np.abs(samples)
    peak_db = float(_db(float(magnitude.max()), power=False))
    rms_db = float(_db(float(np.mean(samples.astype(np.float64) ** 2)), power=True))
    clipped_mask = magnitude >= CLIP_LEVEL
    clipped_fraction = float(np.mean(clipped_mask))
    longest_run_s = _longest_run(clipped_mask) / audio.sample_rate

    levels = frame_levels(audio)
    gated = levels[levels > ACTIVE_GATE_DB]
    quietest_db = float(np.percentile(levels, 5)) if levels.size else FLOOR_DB
    if gated.size == 0:
        speech_s, snr_db = 0.0, 0.0
    else:
        noise_floor = float(np.percentile(levels, NOISE_PERCENTILE))
        speech_level = float(np.percentile(gated, SPEECH_PERCENTILE))
        snr_db = max(0.0, speech_level - noise_floor)
        threshold = max(
            ACTIVE_GATE_DB, speech_level - ACTIVE_RANGE_DB, noise_floor + ACTIVE_ABOVE_FLOOR_DB
        )
        speech_s = float(np.count_nonzero(levels > threshold)) * FRAME_S
    character = characterise(audio)
    sounds_like = _sounds_like(character)
    return QualityReport(
        duration_s=audio.duration,
        speech_s=speech_s,
        peak_db=peak_db,
        rms_db=rms_db,
        clipped_fraction=clipped_fraction,
        snr_db=snr_db,
        verdict=_verdict(snr_db, speech_s, sounds_like),
        notes=_notes(peak_db, snr_db, speech_s, clipped_fraction, quietest_db, sounds_like),
        longest_clip_run_s=longest_run_s,
        quietest_db=quietest_db,
        character=character,
    )


def check_voice_sample(audio: Audio, *, min_seconds: float, max_seconds: float) -> QualityReport:
    """Assess ``audio`` and raise :class:`AudioRejectedError` if it is unusable for cloning.

    Order: TOO_LONG, SILENT, NOT_SPEECH (a tone), CLIPPED, NOISY, TOO_SHORT (speech time,
    not clip length). Music that fails the noise or length check is refused as NOT_SPEECH,
    since that is why it fails; music that passes is kept, with a note and at most "fair".
    """
    report = assess(audio)
    if report.duration_s > max_seconds:
        raise AudioRejectedError(
            RejectReason.TOO_LONG,
            f"The clip is {report.duration_s:.1f} s long; at most "
            f"{format_seconds(max_seconds)} s is allowed.",
        )
    levels = frame_levels(audio) if len(audio) else np.zeros(0)
    if report.peak_db < SILENT_PEAK_DB or not np.any(levels > ACTIVE_GATE_DB):
        raise AudioRejectedError(
            RejectReason.SILENT,
            "The clip is silent or nearly so; check that the right microphone is selected.",
        )
    if report.character.is_tone:
        raise NotSpeechError(str(report.character.describe()))
    if (
        report.clipped_fraction > MAX_CLIPPED_FRACTION
        or report.longest_clip_run_s >= MAX_CLIP_RUN_S
    ):
        raise AudioRejectedError(
            RejectReason.CLIPPED,
            f"The clip is distorted ({report.clipped_fraction:.1%} of it is clipped); "
            "lower the input volume or move back from the mic and record again.",
        )
    if report.character.is_music and (report.snr_db < MIN_SNR_DB or report.speech_s < min_seconds):
        raise NotSpeechError(str(report.character.describe()))
    if report.snr_db < MIN_SNR_DB:
        raise AudioRejectedError(
            RejectReason.NOISY,
            f"The clip is mostly noise (speech is only {report.snr_db:.0f} dB above the "
            "background); record in a quieter place, closer to the mic.",
        )
    if report.speech_s < min_seconds:
        raise AudioRejectedError(
            RejectReason.TOO_SHORT,
            f"The clip is {report.speech_s:.1f} s of speech; "
            f"at least {format_seconds(min_seconds)} s is needed.",
        )
    return report
