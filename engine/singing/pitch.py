"""Pitch (F0) analysis with WORLD, key arithmetic, and the pitch-accuracy measure.

A pitch track has one value per 5 ms frame, in Hz, with 0 for unvoiced frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.audio import Audio

FRAME_PERIOD_MS = 5.0
F0_FLOOR_HZ = 65.0
F0_CEIL_HZ = 1100.0
MAX_OCTAVE_SHIFT = 2


@dataclass(frozen=True, eq=False, slots=True)
class PitchTrack:
    """F0 in Hz per frame (0 = unvoiced), every ``frame_period_ms``."""

    f0: np.ndarray
    frame_period_ms: float = FRAME_PERIOD_MS

    @property
    def voiced(self) -> np.ndarray:
        return self.f0 > 0

    def median_hz(self) -> float | None:
        """Median F0 over voiced frames; None when nothing is voiced."""
        voiced = self.f0[self.voiced]
        return float(np.median(voiced)) if voiced.size else None

    def shifted(self, semitones: float) -> PitchTrack:
        return PitchTrack(self.f0 * 2.0 ** (semitones / 12.0), self.frame_period_ms)


@dataclass(frozen=True, slots=True)
class PitchAccuracy:
    """How closely sung output follows the intended melody."""

    median_cents: float
    """Median absolute error in cents over frames voiced in both; inf when none are."""
    compared_frames: int
    voiced_fraction: float
    """Share of the intended voiced frames that came out voiced."""


def analyse_pitch(audio: Audio, *, frame_period_ms: float = FRAME_PERIOD_MS) -> PitchTrack:
    """WORLD's DIO estimate refined by StoneMask; blocking, CPU only."""
    import pyworld

    samples = np.ascontiguousarray(audio.samples, dtype=np.float64)
    f0, times = pyworld.dio(
        samples,
        audio.sample_rate,
        f0_floor=F0_FLOOR_HZ,
        f0_ceil=F0_CEIL_HZ,
        frame_period=frame_period_ms,
    )
    f0 = pyworld.stonemask(samples, f0, times, audio.sample_rate)
    return PitchTrack(np.asarray(f0, dtype=np.float64), frame_period_ms)


def cents_between(intended_hz: np.ndarray, actual_hz: np.ndarray) -> np.ndarray:
    """Absolute pitch difference in cents, frame by frame (both must be > 0)."""
    cents: np.ndarray = np.abs(1200.0 * np.log2(actual_hz / intended_hz))
    return cents


def pitch_accuracy(intended: PitchTrack, output: PitchTrack) -> PitchAccuracy:
    """Median absolute cents error over frames voiced in both tracks."""
    frames = min(len(intended.f0), len(output.f0))
    wanted, got = intended.f0[:frames], output.f0[:frames]
    wanted_voiced = wanted > 0
    both = wanted_voiced & (got > 0)
    compared = int(np.count_nonzero(both))
    voiced_total = int(np.count_nonzero(wanted_voiced))
    median = float(np.median(cents_between(wanted[both], got[both]))) if compared else math.inf
    fraction = compared / voiced_total if voiced_total else 0.0
    return PitchAccuracy(median, compared, fraction)


def measure_pitch_accuracy(intended: PitchTrack, output: Audio) -> PitchAccuracy:
    """Analyse ``output`` and compare its F0 with the ``intended`` contour."""
    return pitch_accuracy(intended, analyse_pitch(output, frame_period_ms=intended.frame_period_ms))


def octaves_towards(source_hz: float | None, voice_hz: float | None) -> int:
    """Whole octaves that bring a melody around ``source_hz`` closest to ``voice_hz``.

    A bass line sung by a soprano goes up, a soprano line sung by a bass goes down;
    never more than two octaves. 0 when either pitch is unknown.
    """
    if not source_hz or not voice_hz or source_hz <= 0 or voice_hz <= 0:
        return 0
    octaves = round(math.log2(voice_hz / source_hz))
    return max(-MAX_OCTAVE_SHIFT, min(MAX_OCTAVE_SHIFT, octaves))


def speaking_pitch_hz(audio: Audio) -> float | None:
    """Median F0 of a voice sample: where the voice sits, for choosing octaves."""
    return analyse_pitch(audio).median_hz()
