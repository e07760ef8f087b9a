"""Key change for the backing track, and the final mix: gains, sum, loudness, limiter."""

from __future__ import annotations

import numpy as np

from engine.cover.effects import limit
from engine.separate.stems import Track

SILENCE_LUFS = -70.0
END_FADE_S = 0.05


def shift_pitch(track: Track, semitones: float) -> Track:
    """Transpose without changing tempo (librosa's phase vocoder + resampling)."""
    if semitones == 0:
        return track
    import librosa

    shifted = librosa.effects.pitch_shift(
        track.samples, sr=track.sample_rate, n_steps=float(semitones), res_type="soxr_hq"
    )
    return Track(shifted[..., : track.frames], track.sample_rate)


def _db_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def fit_length(samples: np.ndarray, frames: int) -> np.ndarray:
    """Cut or zero-pad the last axis to ``frames``."""
    if samples.shape[-1] >= frames:
        return samples[..., :frames]
    padding = [(0, 0)] * (samples.ndim - 1) + [(0, frames - samples.shape[-1])]
    return np.pad(samples, padding)


def mix(
    vocals: Track, instrumental: Track, *, vocal_gain_db: float, instrumental_gain_db: float
) -> Track:
    """Vocals over the instrumental, as long as the instrumental (the song).

    A reverb tail running past the end of the song is cut with a short fade.
    """
    if vocals.sample_rate != instrumental.sample_rate:
        raise ValueError("vocals and instrumental must share one sample rate")
    channels = max(vocals.channels, instrumental.channels)
    frames = instrumental.frames

    def spread(track: Track) -> np.ndarray:
        samples = track.samples if track.channels == channels else track.samples.mean(axis=0)
        return fit_length(np.broadcast_to(samples, (channels, track.frames)), frames)

    voice = spread(vocals)
    if vocals.frames > frames:
        fade = min(frames, round(END_FADE_S * vocals.sample_rate))
        voice = voice * np.concatenate([np.ones(frames - fade), np.linspace(1.0, 0.0, fade)])
    total = _db_gain(vocal_gain_db) * voice + _db_gain(instrumental_gain_db) * spread(instrumental)
    return Track(total, vocals.sample_rate)


def loudness_lufs(track: Track) -> float:
    """Integrated loudness (EBU R128) of all channels; very short or silent clips read low."""
    import pyloudnorm  # deferred: it imports scipy.signal (0.6 s on every CLI start)

    meter = pyloudnorm.Meter(track.sample_rate)
    if track.duration <= meter.block_size:
        rms = float(np.sqrt(np.mean(track.samples.astype(np.float64) ** 2)))
        return 20.0 * float(np.log10(max(rms, 1e-10)))
    value = float(meter.integrated_loudness(track.samples.T.astype(np.float64)))
    return value if np.isfinite(value) else SILENCE_LUFS


def master(track: Track, *, target_lufs: float = -14.0, ceiling_db: float = -1.0) -> Track:
    """Bring the mix to ``target_lufs``; a look-ahead limiter keeps peaks under the ceiling."""
    loudness = loudness_lufs(track)
    if loudness <= SILENCE_LUFS:
        return track
    gained = track.samples * _db_gain(target_lufs - loudness)
    return Track(limit(gained, track.sample_rate, ceiling_db), track.sample_rate)
