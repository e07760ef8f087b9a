"""Synthetic test music with known ground truth: a sung vowel on a known F0 contour,
a tone melody, noise drums, and a small "song" mixing them.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

VOWEL_A_FORMANTS = ((730.0, 90.0), (1090.0, 110.0), (2440.0, 160.0))
"""(centre Hz, bandwidth Hz) of an /a/."""


def note_contour(
    notes_hz: list[float],
    note_seconds: float,
    rate: int,
    *,
    vibrato_hz: float = 5.5,
    vibrato_cents: float = 30.0,
    gap_seconds: float = 0.0,
) -> np.ndarray:
    """Per-sample F0 (0 in the gaps) of a melody with vibrato."""
    parts = []
    for note in notes_hz:
        count = round(note_seconds * rate)
        time = np.arange(count) / rate
        cents = vibrato_cents * np.sin(2 * np.pi * vibrato_hz * time)
        parts.append(note * 2.0 ** (cents / 1200.0))
        parts.append(np.zeros(round(gap_seconds * rate)))
    return np.concatenate(parts)


def sung_vowel(f0: np.ndarray, rate: int, *, seed: int = 0) -> np.ndarray:
    """A vowel sung on the per-sample contour ``f0``: band-limited harmonics through
    formant resonators, silent where ``f0`` is 0, with a breath of noise."""
    rng = np.random.default_rng(seed)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    source = np.zeros(len(f0))
    for harmonic in range(1, 60):
        audible = (f0 * harmonic) < rate / 2 - 500
        source += audible * np.sin(harmonic * phase) / harmonic
    voiced = f0 > 0
    source = source * voiced + 0.01 * rng.standard_normal(len(f0)) * voiced
    out = np.zeros_like(source)
    for centre, bandwidth in VOWEL_A_FORMANTS:
        radius = np.exp(-np.pi * bandwidth / rate)
        angle = 2 * np.pi * centre / rate
        out += lfilter([1 - radius], [1, -2 * radius * np.cos(angle), radius**2], source)
    ramp = np.minimum(1.0, np.convolve(voiced, np.ones(240) / 240, mode="same"))
    out = out * ramp
    return (0.5 * out / max(1e-9, np.max(np.abs(out)))).astype(np.float32)


def tone_melody(notes_hz: list[float], note_seconds: float, rate: int) -> np.ndarray:
    """Plucked-sounding sine notes (an instrument line)."""
    parts = []
    for note in notes_hz:
        time = np.arange(round(note_seconds * rate)) / rate
        envelope = np.exp(-3.0 * time)
        parts.append(
            envelope * (np.sin(2 * np.pi * note * time) + 0.3 * np.sin(4 * np.pi * note * time))
        )
    return (0.3 * np.concatenate(parts)).astype(np.float32)


def noise_drums(seconds: float, rate: int, *, bpm: float = 120.0, seed: int = 1) -> np.ndarray:
    """Decaying noise bursts on every beat."""
    rng = np.random.default_rng(seed)
    out = np.zeros(round(seconds * rate))
    hit = round(0.12 * rate)
    burst = rng.standard_normal(hit) * np.exp(-np.arange(hit) / (0.02 * rate))
    step = round(60.0 / bpm * rate)
    for start in range(0, len(out) - hit, step):
        out[start : start + hit] += burst
    return (0.25 * out).astype(np.float32)


def synthetic_song(seconds: float = 3.0, rate: int = 44_100) -> tuple[np.ndarray, np.ndarray]:
    """A stereo "song" (2, frames) and its F0 contour per sample: vowel + tones + drums."""
    frames = round(seconds * rate)
    notes = [220.0, 247.0, 262.0, 294.0, 330.0, 294.0]
    f0 = note_contour(notes, 0.45, rate, gap_seconds=0.05)
    f0 = np.pad(f0, (0, max(0, frames - len(f0))))[:frames]
    voice = sung_vowel(f0, rate)
    backing = tone_melody([110.0, 147.0, 165.0, 131.0], seconds / 4, rate)
    backing = np.pad(backing, (0, max(0, frames - len(backing))))[:frames]
    drums = noise_drums(seconds, rate)[:frames]
    left = voice + 0.8 * backing + drums
    right = voice + 0.6 * backing + 0.9 * drums
    return np.stack([left, right]).astype(np.float32), f0
