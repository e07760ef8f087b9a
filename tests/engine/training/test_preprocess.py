"""Cutting recordings into training pieces, and counting clean speech: no model involved."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from engine.audio import Audio, AudioRejectedError, assess, decode, remove_dc, trim_silence
from engine.training.preprocess import (
    BROKEN_PEAK,
    SliceSettings,
    cut_pieces,
    level_piece,
    piece_bounds,
    preprocess_file,
)
from engine.training.speech_amount import clean_speech_seconds
from engine.training.training_set import HOP
from tests.engine.speech import espeak

RATE = 40_000
SETTINGS = SliceSettings()


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return espeak(tmp_path_factory.mktemp("speech") / "speech.wav")


def burst(
    seconds: float, rate: int = RATE, hz: float = 220.0, amplitude: float = 0.5
) -> np.ndarray:
    """A voiced-like sound: a tone with its harmonics under a syllable-rate tremolo."""
    times = np.arange(round(seconds * rate)) / rate
    tone = np.zeros_like(times)
    for harmonic in (1, 2, 3):
        tone += np.sin(2 * np.pi * hz * harmonic * times) / harmonic
    tremolo = 0.6 + 0.4 * np.abs(np.sin(2 * np.pi * 3.0 * times))
    sound: np.ndarray = (amplitude * tone * tremolo / 1.8).astype(np.float32)
    return sound


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(round(seconds * rate), dtype=np.float32)


def joined(*parts: np.ndarray) -> Audio:
    return Audio(np.concatenate(parts), RATE)


def test_long_speech_is_cut_into_overlapping_pieces_of_about_3_7_s() -> None:
    bounds = piece_bounds(0, 10 * RATE, RATE, SETTINGS)
    starts = [start for start, _ in bounds]
    assert starts == [0, round(3.4 * RATE), round(6.8 * RATE)]
    assert bounds[0][1] - bounds[0][0] == round(3.7 * RATE)
    assert bounds[-1][1] == 10 * RATE  # the last piece takes the rest: 3.2 s here
    assert all(end - start <= 4.0 * RATE for start, end in bounds)
    assert piece_bounds(0, 4 * RATE, RATE, SETTINGS) == [(0, 4 * RATE)]  # fits: one piece


def test_pieces_are_cut_at_long_silences_and_keep_short_pauses() -> None:
    audio = joined(
        silence(1.0), burst(2.0), silence(1.5), burst(1.0), silence(0.2), burst(1.0), silence(3.0)
    )
    pieces = cut_pieces(audio, SETTINGS)
    seconds = [piece.frames * HOP / RATE for piece in pieces]
    assert len(pieces) == 2, seconds
    kept = SETTINGS.kept_silence_s
    assert seconds[0] == pytest.approx(2.0 + 2 * kept, abs=0.05)
    assert seconds[1] == pytest.approx(2.2 + 2 * kept, abs=0.05)  # the 0.2 s pause stays in


def test_every_piece_is_whole_frames_at_40k_with_a_16k_copy(speech_wav: Path) -> None:
    pieces = preprocess_file(speech_wav, SETTINGS)
    assert pieces
    for piece in pieces:
        assert len(piece.audio) == piece.frames * HOP
        assert len(piece.audio_16k) == piece.frames * 160
        assert piece.audio.dtype == piece.audio_16k.dtype == np.float32
        assert 0.5 <= piece.frames / 100 <= 4.0
    total = sum(piece.frames for piece in pieces) / 100
    duration = soundfile.info(speech_wav).duration
    assert 0.6 * duration < total < duration + 1.0


def test_silence_noise_and_clicks_give_no_pieces() -> None:
    noise = np.random.default_rng(1).normal(0, 0.01, 5 * RATE).astype(np.float32)
    assert cut_pieces(Audio(silence(5.0), RATE), SETTINGS) == []
    assert cut_pieces(Audio(silence(0.0), RATE), SETTINGS) == []
    assert cut_pieces(Audio(noise, RATE), SETTINGS) == []
    click = joined(silence(2.0), burst(0.08), silence(2.0))  # too little speech in its piece
    assert cut_pieces(click, SETTINGS) == []


def test_pieces_are_high_passed_and_levelled_toward_a_0_9_peak() -> None:
    speech = burst(3.0, amplitude=0.1)
    times = np.arange(len(speech)) / RATE
    rumble = (0.05 * np.sin(2 * np.pi * 20.0 * times)).astype(np.float32)
    (piece,) = cut_pieces(joined(silence(0.5), speech + rumble, silence(0.5)), SETTINGS)
    spectrum = np.abs(np.fft.rfft(piece.audio[RATE // 2 :]))
    hz = np.fft.rfftfreq(len(piece.audio) - RATE // 2, 1 / RATE)

    def level(frequency: float) -> float:
        return float(spectrum[np.argmin(np.abs(hz - frequency))])

    assert level(20.0) < 0.02 * level(220.0)  # the rumble was louder than the fundamental
    assert 0.6 < float(np.max(np.abs(piece.audio))) <= 0.95


def test_levelling_blends_three_quarters_toward_the_peak() -> None:
    samples = np.array([0.0, 0.2, -0.4], dtype=np.float32)
    leveled = level_piece(samples, SETTINGS)
    assert leveled is not None
    assert float(np.max(np.abs(leveled))) == pytest.approx(0.75 * 0.9 + 0.25 * 0.4)
    assert level_piece(np.zeros(10, dtype=np.float32), SETTINGS) is None
    assert level_piece(np.full(10, BROKEN_PEAK + 0.1, dtype=np.float32), SETTINGS) is None


def test_other_rates_are_resampled_to_40k() -> None:
    audio = Audio(np.concatenate([burst(2.0, 24_000), silence(0.5, 24_000)]), 24_000)
    (piece,) = cut_pieces(audio, SETTINGS)
    assert piece.frames == pytest.approx(230, abs=3)  # 2 s + 0.3 s of kept silence


def test_settings_are_checked_and_name_themselves_in_the_cache_key() -> None:
    with pytest.raises(ValueError):
        SliceSettings(overlap_s=4.0)
    with pytest.raises(ValueError):
        SliceSettings(min_piece_s=0)
    assert SliceSettings().key == SETTINGS.key != SliceSettings(piece_s=3.0).key


# --- clean speech ------------------------------------------------------------------------------
def test_clean_speech_counts_what_enrolment_counts_and_ignores_silence(
    speech_wav: Path, tmp_path: Path
) -> None:
    audio = decode(speech_wav, sample_rate=16_000, max_bytes=10**8, max_seconds=60)
    expected = assess(trim_silence(remove_dc(audio))).speech_s
    assert clean_speech_seconds([speech_wav]) == pytest.approx(expected)
    assert 3.0 < expected < audio.duration
    padded = tmp_path / "padded.wav"
    quiet = np.zeros(3 * 16_000, dtype=np.float32)
    soundfile.write(padded, np.concatenate([quiet, audio.samples, quiet]), 16_000)
    assert clean_speech_seconds([padded]) == pytest.approx(expected, abs=0.1)
    assert clean_speech_seconds([speech_wav, padded]) == pytest.approx(2 * expected, abs=0.1)
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, quiet, 16_000)
    assert clean_speech_seconds([silent]) == 0.0
    assert clean_speech_seconds([]) == 0.0


def test_an_unreadable_recording_is_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"not audio at all" * 100)
    with pytest.raises(AudioRejectedError):
        clean_speech_seconds([garbage])
