"""Refusals that say what happened: invalid samples, a header that lies about its size, a
tone or music where speech should be; and a song accepted as a sample is never "good"."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile

from engine.audio import AudioRejectedError, QualityReport, RejectReason, prepare_voice_sample
from engine.audio.character import characterise
from engine.audio.errors import DamagedFileError, InvalidSamplesError, NotSpeechError
from engine.audio.sample import SHORT_FILE_NOTE
from engine.audio.types import Audio
from engine.audio.wav import read_wav_layout
from tests.engine.audio_fixtures import (  # noqa: F401
    LIMIT_BYTES,
    RATE,
    AudioFiles,
    audio_files_fixture,
    speech_audio_fixture,
)
from tests.engine.synthetic_music import synthetic_song


def _prepare(path: Path, *, min_seconds: float = 3.0) -> tuple[Audio, QualityReport]:
    return prepare_voice_sample(
        path, max_bytes=LIMIT_BYTES, min_seconds=min_seconds, max_seconds=60
    )


def _refusal(path: Path) -> AudioRejectedError:
    with pytest.raises(AudioRejectedError) as caught:
        _prepare(path)
    return caught.value


def _wav_with_data_size(path: Path, pcm16: bytes, declared: int, rate: int = RATE) -> Path:
    """A mono 16-bit WAV whose data chunk claims ``declared`` bytes whatever follows."""
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    riff = min(0xFFFFFFFF, declared + 36)
    path.write_bytes(
        b"RIFF" + struct.pack("<I", riff) + b"WAVEfmt " + fmt
        + b"data" + struct.pack("<I", declared) + pcm16
    )  # fmt: skip
    return path


def _pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


@pytest.mark.parametrize(("subtype", "rate"), [("FLOAT", RATE), ("DOUBLE", 48_000)])
def test_invalid_samples_are_named(
    tmp_path: Path, speech_audio: Audio, subtype: str, rate: int
) -> None:
    samples = speech_audio.samples[: 4 * RATE].astype(np.float64).copy()
    samples[1000:1100] = np.nan
    samples[5000] = np.inf
    path = tmp_path / "nan.wav"
    soundfile.write(path, samples, rate, subtype=subtype)
    error = _refusal(path)
    assert isinstance(error, InvalidSamplesError) and error.reason is RejectReason.INVALID_SAMPLES
    assert error.invalid == 101
    assert "invalid samples" in error.for_member()
    assert "noise" not in error.for_member()


def test_a_header_that_lies_about_its_size_on_garbage_is_a_damaged_file(tmp_path: Path) -> None:
    noise = np.random.default_rng(3).standard_normal(2 * RATE) * 0.1
    path = _wav_with_data_size(tmp_path / "liar.wav", _pcm16(noise), 0xFFFFFF00)
    error = _refusal(path)
    assert isinstance(error, DamagedFileError) and error.reason is RejectReason.DAMAGED
    assert "says it holds 4 GB" in str(error) and "93.8 KB" in str(error)
    assert "mostly noise" in (error.detail or "")  # what the recording itself would have got


def test_speech_behind_a_streaming_or_short_header_is_kept(
    tmp_path: Path, speech_audio: Audio
) -> None:
    pcm = _pcm16(speech_audio.samples)
    piped = _wav_with_data_size(tmp_path / "piped.wav", pcm, 0xFFFFFFFF)  # ffmpeg to a pipe
    layout = read_wav_layout(piped)
    assert layout is not None and layout.overstated and layout.streamed
    _, report = _prepare(piped)
    assert SHORT_FILE_NOTE not in report.notes

    cut = _wav_with_data_size(tmp_path / "cut.wav", pcm, len(pcm) * 3)
    _, report = _prepare(cut)
    assert report.notes[0] == SHORT_FILE_NOTE


def test_an_eight_channel_384_khz_tone_is_a_tone(tmp_path: Path) -> None:
    rate = 384_000
    time = np.arange(2 * rate) / rate
    tone = np.repeat((0.3 * np.sin(2 * np.pi * 440 * time))[:, None], 8, axis=1)
    path = tmp_path / "tone8.wav"
    soundfile.write(path, tone, rate, subtype="PCM_16")
    error = _refusal(path)
    assert isinstance(error, NotSpeechError)
    assert "steady tone (about 440 Hz), not speech" in error.for_member()


def test_eight_channel_speech_is_averaged_not_clipped(tmp_path: Path, speech_audio: Audio) -> None:
    path = tmp_path / "speech8.wav"
    channels = np.repeat(0.8 * speech_audio.samples[:, None], 8, axis=1)
    soundfile.write(path, channels, RATE, subtype="PCM_16")
    _, report = _prepare(path)
    assert report.clipped_fraction == 0.0 and report.verdict != "poor"


def test_a_song_is_noted_and_never_good(tmp_path: Path) -> None:
    stereo, _ = synthetic_song(seconds=12.0, rate=RATE)
    path = tmp_path / "song.flac"
    soundfile.write(path, stereo.T, RATE)
    _, report = _prepare(path)
    assert report.sounds_like == "music"
    assert report.verdict == "fair"  # "good" by its levels alone
    assert "sounds like music" in report.notes[0]


def test_music_that_fails_the_checks_is_refused_as_music(tmp_path: Path) -> None:
    stereo, _ = synthetic_song(seconds=6.0, rate=RATE)
    time = np.arange(stereo.shape[1]) / RATE
    organ = sum(
        np.sin(2 * np.pi * note * harmonic * time) / harmonic
        for note in (110.0, 165.0, 220.0)
        for harmonic in range(1, 5)
    )
    path = tmp_path / "song-with-a-pad.wav"  # no pauses: by its levels alone, "mostly noise"
    soundfile.write(path, np.tile(stereo.mean(axis=0) + 0.1 * organ, 2), RATE)
    error = _refusal(path)
    assert isinstance(error, NotSpeechError)
    assert "music rather than someone speaking" in str(error)


def test_speech_is_speech(speech_audio: Audio, audio_files: AudioFiles) -> None:
    character = characterise(speech_audio)
    assert not character.is_tone and not character.is_music
    assert character.describe() is None
    rng = np.random.default_rng(9)
    noisy = speech_audio.samples + 0.02 * rng.standard_normal(len(speech_audio))
    assert characterise(Audio(noisy, RATE)).describe() is None


@pytest.mark.parametrize(
    "error",
    [InvalidSamplesError(3, 10), DamagedFileError(4 << 30, 1000), NotSpeechError("a tone")],
    ids=lambda error: type(error).__name__,
)
def test_specific_refusals_survive_pickling(error: AudioRejectedError) -> None:
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert (again.reason, str(again), again.for_member()) == (
        error.reason,
        str(error),
        error.for_member(),
    )
