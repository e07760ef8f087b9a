"""Small sample-level operations on :class:`Audio`: DC, trimming, loudness, rate, joining."""

from __future__ import annotations

from collections.abc import Sequence
from math import gcd
from typing import Literal

import numpy as np

from engine.audio.types import Audio

TRIM_FRAME_S = 0.01
EPSILON = 1e-12


def _db(power_or_amplitude: float | np.ndarray, *, power: bool) -> np.ndarray:
    factor = 10.0 if power else 20.0
    decibels: np.ndarray = factor * np.log10(np.maximum(power_or_amplitude, EPSILON))
    return decibels


def remove_dc(audio: Audio) -> Audio:
    """Subtract the mean so the waveform is centred on zero."""
    if len(audio) == 0:
        return audio
    mean = float(np.mean(audio.samples, dtype=np.float64))
    return Audio((audio.samples - mean).astype(np.float32), audio.sample_rate)


def trim_silence(audio: Audio, threshold_db: float = -40.0, keep_ms: float = 100.0) -> Audio:
    """Cut leading and trailing silence, keeping ``keep_ms`` of margin on each side.

    A 10 ms frame counts as sound when its RMS is within ``threshold_db`` of the loudest
    frame's RMS. Pauses inside the clip are kept. All-zero audio is returned unchanged.
    """
    samples = audio.samples
    hop = max(1, round(TRIM_FRAME_S * audio.sample_rate))
    count = -(-len(samples) // hop)
    if count == 0:
        return audio
    padded = np.zeros(count * hop, dtype=np.float64)
    padded[: len(samples)] = samples
    power = np.mean(padded.reshape(count, hop) ** 2, axis=1)
    loudest = float(power.max())
    if loudest <= 0.0:
        return audio
    loud = np.flatnonzero(_db(power / loudest, power=True) >= threshold_db)
    keep = round(keep_ms / 1000.0 * audio.sample_rate)
    start = max(0, int(loud[0]) * hop - keep)
    end = min(len(samples), (int(loud[-1]) + 1) * hop + keep)
    return Audio(samples[start:end].copy(), audio.sample_rate)


def _peak(samples: np.ndarray) -> float:
    return float(np.max(np.abs(samples))) if samples.size else 0.0


def measure_loudness(audio: Audio) -> float:
    """Integrated loudness in LUFS (EBU R128); RMS dBFS for clips too short for the meter."""
    samples = audio.samples.astype(np.float64)
    import pyloudnorm  # deferred: it imports scipy.signal (0.6 s on every CLI start)

    meter = pyloudnorm.Meter(audio.sample_rate)
    if len(samples) > meter.block_size * audio.sample_rate:
        loudness = float(meter.integrated_loudness(samples))
        if np.isfinite(loudness):
            return loudness
    rms = float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0
    return float(_db(rms, power=False))


def normalize_loudness(
    audio: Audio, target_lufs: float = -23.0, peak_ceiling_db: float = -1.0
) -> Audio:
    """Scale to ``target_lufs``; if that would push the peak past the ceiling, stop there.

    The result never clips: when the ceiling binds, the clip ends up quieter than the
    target rather than distorted. Silent audio is returned unchanged.
    """
    peak = _peak(audio.samples)
    if peak <= 0.0:
        return audio
    gain_db = target_lufs - measure_loudness(audio)
    ceiling_gain_db = peak_ceiling_db - float(_db(peak, power=False))
    gain = 10.0 ** (min(gain_db, ceiling_gain_db) / 20.0)
    return Audio((audio.samples * gain).astype(np.float32), audio.sample_rate)


def resample(audio: Audio, rate: int) -> Audio:
    """Polyphase resampling to ``rate`` Hz (anti-aliased); float32 out."""
    if rate <= 0:
        raise ValueError(f"rate must be positive, got {rate}")
    if rate == audio.sample_rate or len(audio) == 0:
        return Audio(audio.samples, rate)
    divisor = gcd(rate, audio.sample_rate)
    from scipy.signal import resample_poly  # deferred: 0.6 s on every CLI start

    out = resample_poly(audio.samples, rate // divisor, audio.sample_rate // divisor)
    return Audio(out.astype(np.float32), rate)


def concatenate(audios: Sequence[Audio], gap_s: float = 0.25) -> Audio:
    """Join clips of one sample rate end to end with ``gap_s`` of silence between them."""
    if not audios:
        raise ValueError("nothing to concatenate")
    rate = audios[0].sample_rate
    if any(item.sample_rate != rate for item in audios):
        raise ValueError("all clips must share one sample rate; resample first")
    gap = np.zeros(round(max(0.0, gap_s) * rate), dtype=np.float32)
    parts: list[np.ndarray] = []
    for index, item in enumerate(audios):
        if index:
            parts.append(gap)
        parts.append(item.samples)
    return Audio(np.concatenate(parts).astype(np.float32), rate)


def _fade_curves(length: int, curve: Literal["equal_power", "linear"]) -> tuple[np.ndarray, ...]:
    position = (np.arange(length, dtype=np.float64) + 0.5) / length
    if curve == "linear":
        return 1.0 - position, position
    angle = position * (np.pi / 2.0)
    return np.cos(angle), np.sin(angle)


def crossfade_join(
    chunks: Sequence[np.ndarray],
    sample_rate: int,
    fade_ms: float = 20.0,
    *,
    curve: Literal["equal_power", "linear"] = "equal_power",
) -> np.ndarray:
    """Join 1-D chunks, overlapping each boundary by ``fade_ms`` with a crossfade.

    The overlap shrinks to fit chunks shorter than the fade, so the result is
    ``sum(len) - sum(overlaps)`` samples long. Equal-power suits unrelated material
    (separately generated sentences); linear suits copies of the same signal.
    """
    fade = max(0, round(fade_ms / 1000.0 * sample_rate))
    pieces = [np.asarray(raw, dtype=np.float32).reshape(-1) for raw in chunks]
    pieces = [piece for piece in pieces if piece.size]
    overlaps: list[int] = []
    length = 0
    for piece in pieces:
        overlap = min(fade, length, piece.size)
        overlaps.append(overlap)
        length += piece.size - overlap
    out = np.zeros(length, dtype=np.float32)
    end = 0
    for piece, overlap in zip(pieces, overlaps, strict=True):
        start = end - overlap
        if overlap:
            fade_out, fade_in = _fade_curves(overlap, curve)
            head = out[start:end] * fade_out + piece[:overlap] * fade_in
            out[start:end] = head.astype(np.float32)
        end = start + piece.size
        out[start + overlap : end] = piece[overlap:]
    return out
