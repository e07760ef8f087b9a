"""write_wav, encode and encoded_bytes round-trip through decode()."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from engine.audio import Audio, AudioFormat, decode, encode, encoded_bytes, write_wav
from tests.engine.audio_fixtures import (  # noqa: F401
    LIMIT_BYTES,
    audio_files_fixture,
    speech_audio_fixture,
)


def _decoded_seconds(path: Path) -> float:
    return decode(path, max_bytes=LIMIT_BYTES, max_seconds=60).duration


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_encode_round_trips(speech_audio: Audio, tmp_path: Path, fmt: AudioFormat) -> None:
    target = tmp_path / "out" / f"speech.{fmt.value}"
    encode(speech_audio, target, fmt)
    assert _decoded_seconds(target) == pytest.approx(speech_audio.duration, abs=0.1)
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporaries left


@pytest.mark.parametrize("fmt", [AudioFormat.OGG_OPUS, AudioFormat.MP3])
def test_encoded_bytes_round_trip(speech_audio: Audio, tmp_path: Path, fmt: AudioFormat) -> None:
    path = tmp_path / f"bytes.{fmt.value}"
    path.write_bytes(encoded_bytes(speech_audio, fmt))
    assert _decoded_seconds(path) == pytest.approx(speech_audio.duration, abs=0.03)


def test_bitrate_changes_size(speech_audio: Audio) -> None:
    small = encoded_bytes(speech_audio, AudioFormat.OGG_OPUS, bitrate="24k")
    large = encoded_bytes(speech_audio, AudioFormat.OGG_OPUS, bitrate="128k")
    assert len(small) < len(large) / 2


def test_write_wav_is_16_bit_and_clips(tmp_path: Path) -> None:
    audio = Audio(np.array([0.5, 1.5, -1.5, 0.0], dtype=np.float32), 24000)
    write_wav(audio, tmp_path / "x.wav")
    info = soundfile.info(tmp_path / "x.wav")
    assert (info.subtype, info.samplerate, info.channels) == ("PCM_16", 24000, 1)
    pcm, _ = soundfile.read(tmp_path / "x.wav", dtype="int16")
    assert pcm.tolist() == [16384, 32767, -32768, 0]
    assert encoded_bytes(audio, AudioFormat.WAV) == (tmp_path / "x.wav").read_bytes()
