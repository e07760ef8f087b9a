"""Reading a song for separation: 44.1 kHz stereo, with the length limit checked first."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from engine.audio import AudioRejectedError, AudioToolError, RejectReason, probe_duration
from engine.audio._ffmpeg import FFMPEG, INPUT_GUARDS, QUIET, input_url, stderr_tail
from engine.separate.errors import SongTooLongError
from engine.separate.stems import Track

DEFAULT_MAX_SONG_SECONDS = 480.0
BYTES_PER_SAMPLE = 4


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def check_song_length(seconds: float, max_seconds: float) -> None:
    """Raise :class:`SongTooLongError` with a readable message when over the limit."""
    if seconds > max_seconds:
        raise SongTooLongError(
            f"The song is {_clock(seconds)} long; covers are limited to "
            f"{_clock(max_seconds)}. Trim it or pick a shorter song."
        )


def load_song(
    path: Path,
    *,
    sample_rate: int = 44_100,
    channels: int = 2,
    max_seconds: float = DEFAULT_MAX_SONG_SECONDS,
    max_bytes: int = 100 * 1024 * 1024,
    timeout: float = 120.0,
) -> Track:
    """Decode ``path`` with ffmpeg; blocking. The stated length is checked before decoding.

    Raises :class:`SongTooLongError`, or :class:`AudioRejectedError` for a file that is
    too big, unreadable or silent of any audio track.
    """
    try:
        size = path.stat().st_size
    except OSError as error:
        raise AudioRejectedError(
            RejectReason.UNREADABLE, "The song file could not be opened."
        ) from error
    if size > max_bytes:
        raise AudioRejectedError(
            RejectReason.TOO_BIG,
            f"The song file is {size / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.",
        )
    stated = probe_duration(path)
    if stated is not None:
        check_song_length(stated, max_seconds)
    budget = max_seconds + 1.0
    command = [
        FFMPEG,
        *QUIET,
        *INPUT_GUARDS,
        "-t",
        f"{budget:.3f}",
        "-i",
        input_url(path),
        "-map",
        "0:a:0",
        "-f",
        "f32le",
        "-ac",
        str(channels),
        "-ar",
        str(sample_rate),
        "pipe:1",
    ]
    try:
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except FileNotFoundError as error:
        raise AudioToolError("ffmpeg is not installed or not on PATH") from error
    except subprocess.TimeoutExpired as error:
        raise AudioRejectedError(
            RejectReason.TIMEOUT, "Reading the song took too long; try an mp3 or wav file."
        ) from error
    if result.returncode != 0:
        raise AudioRejectedError(
            RejectReason.UNREADABLE,
            "The song could not be read as audio; send mp3, ogg, m4a, wav or flac.",
            detail=stderr_tail(result.stderr),
        )
    frame_bytes = BYTES_PER_SAMPLE * channels
    data = result.stdout[: len(result.stdout) - len(result.stdout) % frame_bytes]
    samples = np.frombuffer(data, dtype="<f4").reshape(-1, channels).T
    if samples.shape[1] == 0:
        raise AudioRejectedError(RejectReason.UNREADABLE, "The song file contains no audio.")
    check_song_length(samples.shape[1] / sample_rate, max_seconds)
    return Track(np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0), sample_rate)
