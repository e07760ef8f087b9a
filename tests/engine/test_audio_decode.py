"""decode(): every container, the limits, and unreadable input."""

from __future__ import annotations

import pickle
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.audio import AudioRejectedError, RejectReason, decode, probe_duration
from tests.engine.audio_fixtures import LIMIT_BYTES, AudioFiles, audio_files_fixture  # noqa: F401


def _reject(path: Path, **limits: Any) -> AudioRejectedError:
    options: dict[str, Any] = {"max_bytes": LIMIT_BYTES, "max_seconds": 60.0, **limits}
    with pytest.raises(AudioRejectedError) as caught:
        decode(path, **options)
    return caught.value


@pytest.mark.parametrize(
    "name",
    [
        "speech.wav",
        "speech.mp3",
        "speech_vorbis.ogg",
        "speech_opus.ogg",
        "speech.m4a",
        "speech.flac",
        "speech.webm",
    ],
)
@pytest.mark.parametrize("rate", [24000, 16000])
def test_each_container_decodes_to_mono_float32(
    audio_files: AudioFiles, name: str, rate: int
) -> None:
    audio = decode(
        audio_files.containers[name], sample_rate=rate, max_bytes=LIMIT_BYTES, max_seconds=30
    )
    assert audio.sample_rate == rate
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1
    assert audio.duration == pytest.approx(audio_files.speech_seconds, abs=0.1)
    assert 0.1 < float(np.max(np.abs(audio.samples))) < 1.5


def test_too_big_is_refused_before_ffmpeg_runs(
    audio_files: AudioFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("ffmpeg must not run for an oversized file")

    monkeypatch.setattr(subprocess, "run", forbidden)
    size = audio_files.speech_wav.stat().st_size
    error = _reject(audio_files.speech_wav, max_bytes=size - 1)
    assert error.reason is RejectReason.TOO_BIG
    assert "MB" in str(error)


def test_too_long_is_refused_and_decoding_is_capped(
    audio_files: AudioFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs: list[int] = []
    real_run = subprocess.run

    def spy(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        result = real_run(*args, **kwargs)
        outputs.append(len(result.stdout))
        return result

    monkeypatch.setattr(subprocess, "run", spy)
    error = _reject(audio_files.long, max_seconds=2.0)
    assert error.reason is RejectReason.TOO_LONG
    assert str(error).startswith("The clip is longer than 2 s")
    # 64 s of input, but only about max_seconds + 1 s was decoded into memory.
    assert outputs and outputs[0] <= (2.0 + 1.0) * 24000 * 4 + 64 * 1024


def test_clip_at_the_limit_is_accepted(audio_files: AudioFiles) -> None:
    limit = audio_files.speech_seconds + 0.05
    audio = decode(audio_files.speech_wav, max_bytes=LIMIT_BYTES, max_seconds=limit)
    assert audio.duration <= limit


def test_timeout_kills_ffmpeg(audio_files: AudioFiles) -> None:
    error = _reject(audio_files.long, timeout=0.001)
    assert error.reason is RejectReason.TIMEOUT
    assert isinstance(error.__cause__, subprocess.TimeoutExpired)


@pytest.mark.parametrize("attribute", ["garbage", "empty", "playlist", "video_only"])
def test_unreadable_files(audio_files: AudioFiles, attribute: str) -> None:
    error = _reject(getattr(audio_files, attribute))
    assert error.reason is RejectReason.UNREADABLE
    message = str(error)
    assert len(message) < 120
    assert "ffmpeg" not in message and "@" not in message
    if attribute == "video_only":
        assert message == "The file has no audio track."
    if attribute in {"garbage", "playlist"}:
        assert error.detail  # ffmpeg's stderr tail, kept for the logs
        assert isinstance(error.__cause__, subprocess.CalledProcessError)


def test_missing_file_and_directory_are_unreadable(tmp_path: Path) -> None:
    assert _reject(tmp_path / "absent.ogg").reason is RejectReason.UNREADABLE
    assert _reject(tmp_path).reason is RejectReason.UNREADABLE


def test_odd_file_names_stay_plain_files(audio_files: AudioFiles, tmp_path: Path) -> None:
    odd = tmp_path / "-i concat:x|y.mp3"
    odd.write_bytes(audio_files.containers["speech.mp3"].read_bytes())
    audio = decode(odd, max_bytes=LIMIT_BYTES, max_seconds=30)
    assert audio.duration == pytest.approx(audio_files.speech_seconds, abs=0.1)


def test_probe_duration(audio_files: AudioFiles) -> None:
    probed = probe_duration(audio_files.containers["speech_opus.ogg"])
    assert probed == pytest.approx(audio_files.speech_seconds, abs=0.1)
    assert probe_duration(audio_files.garbage) is None


def test_rejection_survives_pickling() -> None:
    error = AudioRejectedError(RejectReason.NOISY, "too noisy", detail="log only")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.reason, str(copy), copy.detail) == (RejectReason.NOISY, "too noisy", "log only")
    assert isinstance(copy, ValueError)


def test_playlist_guard_is_what_refuses_it(audio_files: AudioFiles) -> None:
    """Without the demuxer whitelist, ffmpeg follows the playlist and reads another file."""
    source = f"file:{audio_files.playlist}"
    raw_output = ["-f", "f32le", "-ac", "1", "-ar", "24000", "pipe:1"]
    unguarded = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", source, *raw_output],
        capture_output=True,
        check=False,
    )
    assert len(unguarded.stdout) > 24000 * 4  # the threat is real...
    assert _reject(audio_files.playlist).reason is RejectReason.UNREADABLE  # ...and blocked
