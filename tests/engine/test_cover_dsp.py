"""The cover's own DSP: effects, key change, mix and mastering, the size-fitting encoder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from engine.audio import AudioFormat
from engine.cover import (
    CoverParams,
    InvalidCoverParamsError,
    OutputTooLargeError,
    bitrate_for,
    compress,
    encode_to_fit,
    high_pass,
    limit,
    loudness_lufs,
    master,
    mix,
    reverb,
    shift_pitch,
    vocal_chain,
)
from engine.separate import Track

RATE = 44_100


def tone(hz: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    time = np.arange(round(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * hz * time)).astype(np.float32)


def rms_db(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(samples, dtype=np.float64))) + 1e-12))


def peak_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[np.argmax(spectrum)])


# --- effects --------------------------------------------------------------------------------------
def test_high_pass_removes_rumble_and_keeps_the_voice() -> None:
    rumble, voice = tone(20, 2.0), tone(1000, 2.0)
    settle = RATE // 2
    assert rms_db(high_pass(rumble, RATE, 80)[settle:]) - rms_db(rumble) < -30
    assert abs(rms_db(high_pass(voice, RATE, 80)[settle:]) - rms_db(voice)) < 0.5


def test_compressor_reduces_peaks_and_leaves_quiet_parts() -> None:
    quiet, loud = tone(440, 1.0, 0.05), tone(440, 1.0, 0.9)
    signal = np.concatenate([quiet, loud])
    out = compress(signal, RATE, threshold_db=-18, ratio=4)
    tail = slice(RATE + RATE // 2, None)  # after the attack settled
    assert rms_db(out[tail]) < rms_db(signal[tail]) - 6
    assert abs(rms_db(out[RATE // 2 : RATE]) - rms_db(quiet[RATE // 2 :])) < 0.5


def test_limiter_holds_the_ceiling() -> None:
    signal = np.concatenate([tone(200, 0.5, 0.3), tone(200, 0.5, 2.0)])
    out = limit(signal, RATE, ceiling_db=-1.0)
    assert np.max(np.abs(out)) <= 10 ** (-1 / 20) + 1e-6
    assert np.max(np.abs(out[: RATE // 4])) == pytest.approx(0.3, rel=0.05)


def test_reverb_adds_a_stereo_tail() -> None:
    click = np.zeros(RATE // 2, dtype=np.float32)
    click[100:200] = 0.8
    out = reverb(click, RATE, wet=0.5, decay_s=1.0)
    assert out.shape[0] == 2 and out.shape[1] > len(click) + RATE
    tail = out[:, len(click) : len(click) + RATE // 4]
    assert rms_db(tail) > -60  # sound after the input has ended
    assert not np.allclose(out[0], out[1])  # a room, not a mono echo
    assert rms_db(out[:, -RATE // 10 :]) < rms_db(tail) - 30  # and it dies away


def test_vocal_chain_keeps_the_vocal_level() -> None:
    voice = tone(300, 1.0, 0.6) * np.linspace(0.2, 1.0, RATE).astype(np.float32)
    out = vocal_chain(voice, RATE, high_pass_hz=80, compress_vocals=True, wet=0.0)
    assert out.shape == (2, RATE)
    assert abs(rms_db(out[0]) - rms_db(voice)) < 1.0


# --- mix and key ----------------------------------------------------------------------------------
def test_key_change_moves_the_instrumental() -> None:
    track = Track(np.stack([tone(440, 1.0), tone(440, 1.0)]), RATE)
    up = shift_pitch(track, 2)
    assert up.samples.shape == track.samples.shape
    assert peak_hz(up.samples[0]) == pytest.approx(440 * 2 ** (2 / 12), rel=0.01)
    assert shift_pitch(track, 0) is track


def test_mix_applies_gains_and_keeps_the_song_length() -> None:
    vocals = Track(np.stack([tone(300, 1.5), tone(300, 1.5)]), RATE)  # a reverb tail too long
    backing = Track(np.stack([tone(100, 1.0), tone(100, 1.0)]), RATE)
    out = mix(vocals, backing, vocal_gain_db=-6.0, instrumental_gain_db=0.0)
    assert out.frames == backing.frames
    spectrum = np.abs(np.fft.rfft(out.samples[0, : RATE // 2]))
    freqs = np.fft.rfftfreq(RATE // 2, 1 / RATE)
    ratio = spectrum[np.argmin(abs(freqs - 300))] / spectrum[np.argmin(abs(freqs - 100))]
    assert 20 * np.log10(ratio) == pytest.approx(-6.0, abs=0.5)


def test_master_reaches_the_loudness_target() -> None:
    rng = np.random.default_rng(0)
    track = Track((0.02 * rng.standard_normal((2, RATE * 5))).astype(np.float32), RATE)
    out = master(track, target_lufs=-16.0)
    assert loudness_lufs(out) == pytest.approx(-16.0, abs=1.0)
    assert np.max(np.abs(out.samples)) <= 10 ** (-1 / 20) + 1e-6


# --- the size-fitting encoder ---------------------------------------------------------------------
def probe(path: Path) -> tuple[str, float]:
    result = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name:format=duration",
            "-of",
            "default=noprint_wrappers=1:nokey=1",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    codec, duration = result.stdout.split()[:2]
    return codec, float(duration)


@pytest.fixture(scope="module")
def noise_song() -> Track:
    rng = np.random.default_rng(1)
    return Track((0.2 * rng.standard_normal((2, RATE * 20))).astype(np.float32), RATE)


def test_bitrate_follows_duration_and_budget() -> None:
    assert bitrate_for(AudioFormat.OGG_OPUS, 180.0, 10 * 2**20) == 160
    assert bitrate_for(AudioFormat.OGG_OPUS, 600.0, 10 * 2**20) == 128
    assert bitrate_for(AudioFormat.OGG_OPUS, 1800.0, 10 * 2**20) == 40
    assert bitrate_for(AudioFormat.MP3, 480.0, 10 * 2**20) == 160
    assert bitrate_for(AudioFormat.OGG_OPUS, 3 * 3600.0, 10 * 2**20) is None


def test_encoder_fits_the_byte_limit(noise_song: Track, tmp_path: Path) -> None:
    limit_bytes = 160 * 1024  # 20 s in 160 KiB: about 60 kbps
    encoded = encode_to_fit(noise_song, tmp_path / "cover", max_bytes=limit_bytes)
    assert encoded.path == tmp_path / "cover.ogg"
    assert encoded.size_bytes == encoded.path.stat().st_size <= limit_bytes
    assert encoded.bitrate_kbps <= 64
    codec, duration = probe(encoded.path)
    assert codec == "opus" and duration == pytest.approx(20.0, abs=0.1)


def test_encoder_can_write_mp3(noise_song: Track, tmp_path: Path) -> None:
    encoded = encode_to_fit(
        noise_song, tmp_path / "cover", max_bytes=2 * 2**20, preferred=AudioFormat.MP3
    )
    assert encoded.format is AudioFormat.MP3 and encoded.bitrate_kbps == 256
    assert probe(encoded.path)[0] == "mp3"


def test_a_cover_that_cannot_fit_says_so(noise_song: Track, tmp_path: Path) -> None:
    with pytest.raises(
        OutputTooLargeError,
        match=r"0:20 long and does not fit in 50 KB even at 24 kbps; about 0:16",
    ):
        encode_to_fit(noise_song, tmp_path / "cover", max_bytes=50 * 1024)
    assert not list(tmp_path.glob("cover*"))


# --- parameters -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"semitones": 13}, "semitones must be a whole number between -12 and 12"),
        ({"reverb": 1.5}, "reverb must be between 0 and 1"),
        ({"vocal_gain_db": float("nan")}, "vocal_gain_db"),
        ({"output_format": AudioFormat.WAV}, "not WAV"),
    ],
)
def test_bad_cover_params_are_named(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidCoverParamsError, match=message):
        CoverParams(**changes)  # type: ignore[arg-type]
