"""Pitch-contour maths: coarse ids, transposition, cleaning, RMVPE's decoding, loudness mix."""

from __future__ import annotations

import numpy as np
import pytest

from engine.convert.loudness import mix_loudness, rms_envelope
from engine.convert.pitch.contour import (
    F0_MAX,
    F0_MIN,
    clean,
    coarse_pitch,
    fit_length,
    frame_count,
    shift_semitones,
)
from engine.convert.pitch.rmvpe import salience_to_hz


def _mel(hz: float) -> float:
    return 1127.0 * np.log(1.0 + hz / 700.0)


def test_coarse_ends_of_the_range() -> None:
    ids = coarse_pitch(np.array([0.0, F0_MIN, F0_MAX, 5000.0, 20.0]))
    assert ids.tolist() == [1, 1, 255, 255, 1]
    assert ids.dtype == np.int64


def test_coarse_is_linear_on_the_mel_scale() -> None:
    low, high = _mel(F0_MIN), _mel(F0_MAX)
    for hz in (110.0, 220.0, 440.0, 880.0):
        expected = round((_mel(hz) - low) * 254 / (high - low) + 1)
        assert coarse_pitch(np.array([hz]))[0] == expected
    midpoint_hz = 700.0 * (np.exp((low + high) / 2 / 1127.0) - 1.0)
    assert coarse_pitch(np.array([midpoint_hz]))[0] == 128


def test_coarse_is_monotonic() -> None:
    ids = coarse_pitch(np.linspace(F0_MIN, F0_MAX, 2000))
    assert np.all(np.diff(ids) >= 0)
    assert set(np.unique(ids)) == set(range(1, 256))


def test_shift_semitones_keeps_unvoiced_frames_silent() -> None:
    shifted = shift_semitones(np.array([0.0, 220.0, 440.0]), 12)
    np.testing.assert_allclose(shifted, [0.0, 440.0, 880.0], rtol=1e-6)
    np.testing.assert_allclose(shift_semitones(np.array([440.0]), -12), [220.0], rtol=1e-6)
    np.testing.assert_allclose(shift_semitones(np.array([440.0]), 7), [440 * 2 ** (7 / 12)])


def test_clean_bounds_the_contour() -> None:
    cleaned = clean(np.array([np.nan, 30.0, 50.0, 300.0, 1500.0, np.inf]))
    assert cleaned.tolist() == [0.0, 0.0, 50.0, 300.0, 1100.0, 0.0]
    assert cleaned.dtype == np.float32


def test_fit_length_pads_evenly_and_trims_the_end() -> None:
    assert fit_length(np.array([1.0, 2.0]), 5).tolist() == [0.0, 0.0, 1.0, 2.0, 0.0]
    assert fit_length(np.array([1.0, 2.0, 3.0]), 2).tolist() == [1.0, 2.0]


def test_frames_are_ten_milliseconds_at_16k() -> None:
    assert frame_count(16_000) == 100
    assert frame_count(16_159) == 100


def test_rmvpe_decoding_reads_the_peak_bins_cents() -> None:
    salience = np.zeros((3, 360), dtype=np.float32)
    salience[0, 100] = 0.9  # one bin: exactly its centre
    salience[1, 200], salience[1, 201] = 0.5, 0.5  # two equal bins: halfway
    salience[2, 50] = 0.02  # below the voicing threshold
    hz = salience_to_hz(salience)
    cents_100 = 1997.3794084376191 + 20 * 100
    assert hz[0] == pytest.approx(10 * 2 ** (cents_100 / 1200), rel=1e-5)
    cents_200_5 = 1997.3794084376191 + 20 * 200.5
    assert hz[1] == pytest.approx(10 * 2 ** (cents_200_5 / 1200), rel=1e-5)
    assert hz[2] == 0.0


def test_rmvpe_decoding_at_the_edges_of_the_range() -> None:
    salience = np.zeros((2, 360), dtype=np.float32)
    salience[0, 0] = 1.0
    salience[1, 359] = 1.0
    low, high = salience_to_hz(salience)
    assert low == pytest.approx(10 * 2 ** (1997.3794084376191 / 1200), rel=1e-5)  # ~31.7 Hz
    assert high > 1900


def test_rms_envelope_of_a_constant() -> None:
    times, rms = rms_envelope(np.full(16_000, 0.5), 16_000)
    assert times.tolist() == [0.0, 0.5, 1.0]
    assert rms[1] == pytest.approx(0.5)
    assert rms[0] == pytest.approx(0.5 / np.sqrt(2))  # half the window is padding


def test_loudness_mix_follows_the_input_envelope() -> None:
    rate = 16_000
    source = np.concatenate([np.full(rate, 0.5), np.full(rate, 0.05)])
    converted = np.full(2 * rate, 0.2, dtype=np.float32)
    untouched = mix_loudness(source, rate, converted, rate, 1.0)
    assert untouched is converted
    followed = mix_loudness(source, rate, converted, rate, 0.0)
    assert np.abs(followed[rate // 4]) == pytest.approx(0.5, rel=0.05)
    assert np.abs(followed[-rate // 4]) == pytest.approx(0.05, rel=0.15)
    halfway = mix_loudness(source, rate, converted, rate, 0.5)
    assert np.abs(halfway[rate // 4]) == pytest.approx(np.sqrt(0.5 * 0.2), rel=0.05)
