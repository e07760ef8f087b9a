"""Vocal effects in plain numpy/scipy: high-pass, compressor (and limiter), reverb.

All functions take float32 arrays shaped ``(..., frames)`` and return new arrays.
"""

from __future__ import annotations

import functools
import math

import numpy as np

# scipy.signal is imported where used (deferred): importing it costs 0.6 s on every start of
# the CLI, which reaches this module through the engine API.

_EPSILON = 1e-10


def high_pass(samples: np.ndarray, rate: int, cutoff_hz: float, order: int = 4) -> np.ndarray:
    """Butterworth high-pass (24 dB/octave at order 4): rumble and handling noise out."""
    if cutoff_hz <= 0:
        return samples.copy()
    from scipy.signal import butter, sosfilt  # deferred (see above)

    sos = butter(order, cutoff_hz, btype="highpass", fs=rate, output="sos")
    filtered: np.ndarray = sosfilt(sos, samples, axis=-1)
    return filtered.astype(np.float32)


def _db(value: np.ndarray) -> np.ndarray:
    decibels: np.ndarray = 20.0 * np.log10(np.maximum(value, _EPSILON))
    return decibels


def _block_peaks(samples: np.ndarray, hop: int) -> np.ndarray:
    """Peak of the loudest channel in each ``hop``-long block."""
    mono_peak = np.max(np.abs(np.atleast_2d(samples)), axis=0)
    count = math.ceil(len(mono_peak) / hop)
    padded = np.zeros(count * hop, dtype=np.float32)
    padded[: len(mono_peak)] = mono_peak
    peaks: np.ndarray = padded.reshape(count, hop).max(axis=1)
    return peaks


def _smooth(target_db: np.ndarray, attack: float, release: float) -> np.ndarray:
    """One-pole smoothing of a gain-reduction curve: fast going down, slow coming back."""
    out = np.empty_like(target_db)
    state = 0.0
    for index, value in enumerate(target_db.tolist()):
        coefficient = attack if value < state else release
        state = coefficient * state + (1.0 - coefficient) * value
        out[index] = state
    return out


def compress(
    samples: np.ndarray,
    rate: int,
    *,
    threshold_db: float = -18.0,
    ratio: float = 3.0,
    knee_db: float = 6.0,
    attack_ms: float = 5.0,
    release_ms: float = 120.0,
    makeup_db: float = 0.0,
    lookahead_ms: float = 0.0,
) -> np.ndarray:
    """Feed-forward peak compressor with a soft knee; channels share one gain (no image shift).

    The level is read per 1.5 ms block; gain changes follow the attack and release times.
    ``lookahead_ms`` moves the gain curve earlier, so a limiter catches the peak itself.
    """
    if ratio < 1.0:
        raise ValueError("ratio must be at least 1")
    hop = max(1, round(rate * 0.0015))
    level = _db(_block_peaks(samples, hop))
    over = level - threshold_db
    slope = 1.0 - 1.0 / ratio
    half_knee = knee_db / 2.0
    reduction = np.where(
        over <= -half_knee,
        0.0,
        np.where(
            over >= half_knee,
            -slope * over,
            -slope * (over + half_knee) ** 2 / (2.0 * max(knee_db, _EPSILON)),
        ),
    )
    block_s = hop / rate
    attack = math.exp(-block_s / max(attack_ms / 1000.0, block_s))
    release = math.exp(-block_s / max(release_ms / 1000.0, block_s))
    gain_db = _smooth(reduction, attack, release) + makeup_db
    shift = round(lookahead_ms / 1000.0 * rate)
    positions = (np.arange(len(gain_db)) + 0.5) * hop - shift
    frames = samples.shape[-1]
    gain = 10.0 ** (np.interp(np.arange(frames), positions, gain_db) / 20.0)
    compressed: np.ndarray = samples * gain
    return compressed.astype(np.float32)


def limit(samples: np.ndarray, rate: int, ceiling_db: float = -1.0) -> np.ndarray:
    """A look-ahead peak limiter, then a safety scale so no sample passes the ceiling."""
    limited = compress(
        samples,
        rate,
        threshold_db=ceiling_db - 0.5,
        ratio=30.0,
        knee_db=1.0,
        attack_ms=1.0,
        release_ms=80.0,
        lookahead_ms=2.0,
    )
    ceiling = 10.0 ** (ceiling_db / 20.0)
    peak = float(np.max(np.abs(limited))) if limited.size else 0.0
    if peak > ceiling:
        limited = limited * (ceiling / peak)
    return limited.astype(np.float32)


@functools.lru_cache(maxsize=8)
def reverb_impulse(
    rate: int, decay_s: float, damping: float, pre_delay_ms: float, seed: int = 7
) -> np.ndarray:
    """A stereo room response ``(2, frames)``: decorrelated noise decaying by 60 dB in
    ``decay_s``, highs dying faster as ``damping`` (0..1) grows, after a pre-delay.
    Deterministic for a seed, so covers stay cacheable. Unit energy per channel."""
    length = round(decay_s * 1.2 * rate)
    time = np.arange(length) / rate
    noise = np.random.default_rng(seed).standard_normal((2, length))
    from scipy.signal import butter, sosfilt  # deferred (see above)

    low_sos = butter(2, 2500.0, btype="lowpass", fs=rate, output="sos")
    low = sosfilt(low_sos, noise, axis=-1)
    high = noise - low
    high_decay_s = decay_s * (1.0 - 0.8 * min(max(damping, 0.0), 1.0))
    shaped = low * 10.0 ** (-3.0 * time / decay_s) + high * 10.0 ** (-3.0 * time / high_decay_s)
    fade_in = np.minimum(1.0, time / 0.005)  # soften the onset
    shaped *= fade_in
    shaped /= np.sqrt(np.sum(shaped**2, axis=-1, keepdims=True)) + _EPSILON
    delay = np.zeros((2, round(pre_delay_ms / 1000.0 * rate)))
    impulse: np.ndarray = np.concatenate([delay, shaped], axis=-1).astype(np.float32)
    impulse.setflags(write=False)
    return impulse


def reverb(
    mono: np.ndarray,
    rate: int,
    *,
    wet: float = 0.2,
    decay_s: float = 1.6,
    damping: float = 0.5,
    pre_delay_ms: float = 20.0,
) -> np.ndarray:
    """A mono signal in a stereo room: ``(2, frames + tail)``, dry in the centre.

    The tail is kept (the output is longer than the input) so nothing is cut off.
    """
    if mono.ndim != 1:
        raise ValueError("reverb takes a mono signal")
    impulse = reverb_impulse(rate, decay_s, damping, pre_delay_ms)
    from scipy.signal import oaconvolve  # deferred (see above)

    wet_signal = np.stack([oaconvolve(mono, channel, mode="full") for channel in impulse])
    dry = np.zeros_like(wet_signal)
    dry[:, : len(mono)] = mono
    angle = min(max(wet, 0.0), 1.0) * math.pi / 2.0  # equal-power wet/dry balance
    mixed: np.ndarray = math.cos(angle) * dry + math.sin(angle) * wet_signal
    return mixed.astype(np.float32)


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0


def vocal_chain(
    mono: np.ndarray, rate: int, *, high_pass_hz: float, compress_vocals: bool, wet: float
) -> np.ndarray:
    """High-pass, compressor, reverb: mono vocals in, stereo ``(2, frames + tail)`` out.

    The compressor's level loss is made up, so the vocals keep the loudness they came
    with (their balance against the instrumental is set by the mix gains alone).
    """
    out = high_pass(mono, rate, high_pass_hz)
    if compress_vocals:
        before = _rms(out)
        out = compress(out, rate)
        after = _rms(out)
        if after > 0:
            out = (out * (before / after)).astype(np.float32)
    if wet > 0:
        return reverb(out, rate, wet=wet)
    return np.stack([out, out])
