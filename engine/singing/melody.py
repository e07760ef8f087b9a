"""Putting the sung melody back onto converted vocals with the WORLD vocoder.

Speech-to-speech conversion keeps the words and takes the new voice's timbre, but it
speaks: the melody is lost. WORLD splits a signal into F0, a spectral envelope (the
timbre) and aperiodicity (breathiness). The result here takes

- the spectral envelope of the converted audio (the new voice),
- the intended F0: the source singer's contour, moved to the new key,
- the voiced/unvoiced decision and aperiodicity of the source where it sings (so
  sustained notes stay sung notes), the converted audio's aperiodicity elsewhere.

Both signals must have the same rate and length: the converter is time-aligned.
"""

from __future__ import annotations

import numpy as np

from engine.audio import Audio
from engine.singing.pitch import F0_CEIL_HZ, F0_FLOOR_HZ, PitchTrack


def _frames(values: np.ndarray, count: int) -> np.ndarray:
    """``values`` (frames first) cut or edge-padded to ``count`` frames."""
    if len(values) >= count:
        return values[:count]
    padding = [(0, count - len(values))] + [(0, 0)] * (values.ndim - 1)
    return np.pad(values, padding, mode="edge")


def _analyse(samples: np.ndarray, rate: int, period: float) -> tuple[np.ndarray, np.ndarray]:
    import pyworld

    f0, times = pyworld.dio(
        samples, rate, f0_floor=F0_FLOOR_HZ, f0_ceil=F0_CEIL_HZ, frame_period=period
    )
    return pyworld.stonemask(samples, f0, times, rate), times


def retune(
    converted: Audio, source: Audio, source_pitch: PitchTrack, semitones: float = 0.0
) -> tuple[Audio, PitchTrack]:
    """Re-synthesise ``converted`` singing the source's melody moved by ``semitones``.

    ``source_pitch`` is :func:`~engine.singing.pitch.analyse_pitch` of ``source``. Returns
    the sung audio (as long as ``source``) and the intended F0 contour it was given.
    """
    import pyworld

    if converted.sample_rate != source.sample_rate:
        raise ValueError("converted and source vocals must share one sample rate")
    rate = source.sample_rate
    period = source_pitch.frame_period_ms
    fft_size = pyworld.get_cheaptrick_fft_size(rate, F0_FLOOR_HZ)
    length = len(source)
    new = np.zeros(length, dtype=np.float64)
    new[: min(length, len(converted))] = converted.samples[:length]
    old = np.ascontiguousarray(source.samples, dtype=np.float64)

    new_f0, new_times = _analyse(new, rate, period)
    envelope = pyworld.cheaptrick(new, new_f0, new_times, rate, fft_size=fft_size)
    new_aperiodicity = pyworld.d4c(new, new_f0, new_times, rate, fft_size=fft_size)
    count = len(new_f0)
    old_f0 = np.ascontiguousarray(_frames(source_pitch.f0, count))
    old_aperiodicity = pyworld.d4c(old, old_f0, new_times, rate, fft_size=fft_size)

    intended = PitchTrack(old_f0 * 2.0 ** (semitones / 12.0), period)
    voiced = intended.voiced
    aperiodicity = np.where(voiced[:, None], old_aperiodicity, new_aperiodicity)
    sung = pyworld.synthesize(
        np.ascontiguousarray(intended.f0),
        np.ascontiguousarray(envelope),
        np.ascontiguousarray(aperiodicity),
        rate,
        period,
    )
    out = np.zeros(length, dtype=np.float32)
    out[: min(length, len(sung))] = sung[:length]
    return Audio(out, rate), intended
