"""remove_dc, trim_silence, normalize_loudness, resample, concatenate, crossfade_join."""

from __future__ import annotations

import numpy as np
import pytest

from engine.audio import (
    Audio,
    concatenate,
    crossfade_join,
    measure_loudness,
    normalize_loudness,
    remove_dc,
    resample,
    trim_silence,
)
from tests.engine.audio_fixtures import (  # noqa: F401
    RATE,
    audio_files_fixture,
    speech_audio_fixture,
)


def _energy(samples: np.ndarray) -> float:
    return float(np.sum(samples.astype(np.float64) ** 2))


def test_audio_validates_and_coerces() -> None:
    audio = Audio(np.zeros(480, dtype=np.float64), 24000)
    assert audio.samples.dtype == np.float32
    assert audio.duration == pytest.approx(0.02)
    with pytest.raises(ValueError):
        Audio(np.zeros((2, 10), dtype=np.float32), 24000)
    with pytest.raises(ValueError):
        Audio(np.zeros(10, dtype=np.float32), 0)


def test_remove_dc(speech_audio: Audio) -> None:
    shifted = Audio(speech_audio.samples + 0.2, RATE)
    centred = remove_dc(shifted)
    assert abs(float(np.mean(centred.samples, dtype=np.float64))) < 1e-5
    assert np.allclose(
        centred.samples, speech_audio.samples - np.mean(speech_audio.samples), atol=1e-4
    )


def test_trim_silence_strips_padding_but_keeps_speech(speech_audio: Audio) -> None:
    core = trim_silence(speech_audio)
    rng = np.random.default_rng(0)
    pad = (1e-4 * rng.standard_normal(RATE)).astype(np.float32)  # 1 s of -80 dB hiss
    padded = Audio(np.concatenate([pad, core.samples, pad]), RATE)
    trimmed = trim_silence(padded, keep_ms=100)
    assert trimmed.duration == pytest.approx(core.duration, abs=0.25)
    assert trimmed.duration < padded.duration - 1.5
    assert _energy(trimmed.samples) >= 0.999 * _energy(core.samples)


def test_trim_silence_leaves_silence_alone() -> None:
    silent = Audio(np.zeros(RATE, dtype=np.float32), RATE)
    assert trim_silence(silent).duration == pytest.approx(1.0)


def test_normalize_loudness_hits_target_without_clipping(speech_audio: Audio) -> None:
    for source_gain in (0.05, 1.0):
        quiet_or_loud = Audio(speech_audio.samples * source_gain, RATE)
        out = normalize_loudness(quiet_or_loud, target_lufs=-23.0, peak_ceiling_db=-1.0)
        assert measure_loudness(out) == pytest.approx(-23.0, abs=0.5)
        assert float(np.max(np.abs(out.samples))) <= 10 ** (-1.0 / 20) + 1e-6


def test_normalize_loudness_respects_the_peak_ceiling(speech_audio: Audio) -> None:
    out = normalize_loudness(speech_audio, target_lufs=-5.0, peak_ceiling_db=-1.0)
    assert float(np.max(np.abs(out.samples))) == pytest.approx(10 ** (-1.0 / 20), rel=1e-4)
    assert measure_loudness(out) < -5.0


def test_normalize_loudness_short_and_silent_clips() -> None:
    tone = 0.01 * np.sin(2 * np.pi * 440 * np.arange(RATE // 5) / RATE)  # 0.2 s: below the meter
    out = normalize_loudness(Audio(tone, RATE), target_lufs=-23.0)
    rms_db = 20 * np.log10(np.sqrt(np.mean(out.samples.astype(np.float64) ** 2)))
    assert rms_db == pytest.approx(-23.0, abs=0.5)
    silent = Audio(np.zeros(RATE, dtype=np.float32), RATE)
    assert not np.any(normalize_loudness(silent).samples)


@pytest.mark.parametrize("rate", [16000, 22050, 48000])
def test_resample_changes_length_proportionally(speech_audio: Audio, rate: int) -> None:
    out = resample(speech_audio, rate)
    assert out.sample_rate == rate
    assert out.samples.dtype == np.float32
    assert len(out) == pytest.approx(len(speech_audio) * rate / RATE, abs=1)
    assert out.duration == pytest.approx(speech_audio.duration, abs=1e-3)


def test_concatenate_inserts_gaps() -> None:
    one = Audio(np.ones(100, dtype=np.float32), 1000)
    out = concatenate([one, one, one], gap_s=0.25)
    assert len(out) == 3 * 100 + 2 * 250
    assert not np.any(out.samples[100:350])
    with pytest.raises(ValueError):
        concatenate([one, Audio(np.ones(10, dtype=np.float32), 2000)])
    with pytest.raises(ValueError):
        concatenate([])


def test_crossfade_join_length_and_smoothness() -> None:
    rate, fade = 24000, 480
    high = np.full(2000, 0.5, dtype=np.float32)
    low = np.full(3000, -0.5, dtype=np.float32)
    out = crossfade_join([high, low, high], rate, fade_ms=20)
    assert len(out) == 2000 + 3000 + 2000 - 2 * fade
    hard = np.concatenate([high, low, high])
    assert np.max(np.abs(np.diff(hard))) == pytest.approx(1.0)
    assert np.max(np.abs(np.diff(out))) < 0.01  # no step, no spike
    assert np.max(np.abs(out)) <= 0.5 + 1e-6


def test_crossfade_join_linear_reconstructs_a_continuous_signal() -> None:
    rate, fade = 24000, 480
    signal = np.sin(2 * np.pi * 200 * np.arange(6000) / rate).astype(np.float32)
    first, second = signal[: 3000 + fade], signal[3000:]
    out = crossfade_join([first, second], rate, fade_ms=20, curve="linear")
    assert len(out) == len(signal)
    assert np.allclose(out, signal, atol=1e-5)


def test_crossfade_join_short_and_empty_chunks() -> None:
    chunks = [np.ones(1000), np.ones(100), np.zeros(0), np.ones(50), np.ones(1000)]
    out = crossfade_join(chunks, 24000, fade_ms=20)
    lengths = [1000, 100, 50, 1000]
    overlaps = [100, 50, 480]  # each overlap shrinks to the shorter side
    assert len(out) == sum(lengths) - sum(overlaps)
    assert out.dtype == np.float32
    assert crossfade_join([], 24000).size == 0
