"""Decode any uploaded audio file to mono float32 with ffmpeg, within size and time limits."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from engine.audio._ffmpeg import FFMPEG, FFPROBE, INPUT_GUARDS, QUIET, input_url, stderr_tail
from engine.audio.errors import AudioRejectedError, AudioToolError, RejectReason, format_seconds
from engine.audio.types import Audio

BYTES_PER_SAMPLE = 4  # f32le
HEADROOM_SECONDS = 1.0  # decode this much past the limit to tell "too long" from "just fits"
SUPPORTED = "mp3, ogg, opus, m4a, wav, flac or webm"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def _check_file(path: Path, max_bytes: int) -> None:
    """Refuse oversized, empty or non-regular files before any decoding starts."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise AudioRejectedError(
            RejectReason.UNREADABLE, "The file could not be opened.", detail=repr(exc)
        ) from exc
    if not path.is_file():
        raise AudioRejectedError(RejectReason.UNREADABLE, "That is not a regular file.")
    if stat.st_size > max_bytes:
        raise AudioRejectedError(
            RejectReason.TOO_BIG,
            f"The file is {_megabytes(stat.st_size)} MB; the limit is {_megabytes(max_bytes)} MB.",
        )
    if stat.st_size == 0:
        raise AudioRejectedError(RejectReason.UNREADABLE, "The file is empty.")


def decode_command(path: Path, *, sample_rate: int, max_seconds: float) -> list[str]:
    """The ffmpeg argument list that decodes ``path`` to raw mono f32le on stdout."""
    budget = max_seconds + HEADROOM_SECONDS
    max_output = int(budget * sample_rate * BYTES_PER_SAMPLE) + 64 * 1024
    return [
        FFMPEG,
        *QUIET,
        *INPUT_GUARDS,
        "-t",
        f"{budget:.3f}",
        "-i",
        input_url(path),
        "-map",
        "0:a:0",
        "-fs",
        str(max_output),  # a second cap in case broken timestamps defeat -t
        "-f",
        "f32le",
        "-ac",
        "1",
        "-ar",
        str(sample_rate),
        "pipe:1",
    ]


def _unreadable(stderr: str) -> AudioRejectedError:
    if "matches no streams" in stderr or "does not contain any stream" in stderr:
        message = "The file has no audio track."
    else:
        message = f"The file could not be read as audio; send {SUPPORTED}."
    return AudioRejectedError(RejectReason.UNREADABLE, message, detail=stderr)


def decode(
    path: Path,
    *,
    sample_rate: int = 24000,
    max_bytes: int,
    max_seconds: float,
    timeout: float = 60.0,
) -> Audio:
    """Decode ``path`` to mono float32 at ``sample_rate``; blocking, run it off the event loop.

    Raises :class:`AudioRejectedError` (TOO_BIG, UNREADABLE, TIMEOUT, TOO_LONG). At most
    ``max_seconds + 1`` s are decoded, so huge inputs never reach memory.
    """
    _check_file(path, max_bytes)
    command = decode_command(path, sample_rate=sample_rate, max_seconds=max_seconds)
    try:
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:  # run() has already killed ffmpeg
        raise AudioRejectedError(
            RejectReason.TIMEOUT,
            f"Reading the file took longer than {format_seconds(timeout)} s; "
            "try a shorter clip or a common format.",
            detail=stderr_tail(exc.stderr),
        ) from exc
    except FileNotFoundError as exc:
        raise AudioToolError("ffmpeg is not installed or not on PATH") from exc
    stderr = stderr_tail(result.stderr)
    if result.returncode != 0:
        cause = subprocess.CalledProcessError(result.returncode, command, stderr=result.stderr)
        raise _unreadable(stderr) from cause
    data = result.stdout[: len(result.stdout) - len(result.stdout) % BYTES_PER_SAMPLE]
    samples = np.frombuffer(data, dtype="<f4").astype(np.float32)
    if samples.size == 0:
        raise AudioRejectedError(
            RejectReason.UNREADABLE, "The file contains no audio.", detail=stderr
        )
    if samples.size > round(max_seconds * sample_rate):
        raise AudioRejectedError(
            RejectReason.TOO_LONG,
            f"The clip is longer than {format_seconds(max_seconds)} s; "
            f"send {format_seconds(max_seconds)} s or less.",
        )
    if not np.all(np.isfinite(samples)):
        samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
    return Audio(samples, sample_rate)


def probe_duration(path: Path, timeout: float = 10.0) -> float | None:
    """The container's stated duration in seconds via ffprobe, or None if it does not say."""
    command = [
        FFPROBE,
        "-hide_banner",
        "-v",
        "error",
        *INPUT_GUARDS,
        "-show_entries",
        "format=duration",
        "-of",
        "default=noprint_wrappers=1:nokey=1",
        input_url(path),
    ]
    try:
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except (subprocess.TimeoutExpired, FileNotFoundError):
        return None
    if result.returncode != 0:
        return None
    try:
        value = float(result.stdout.decode("ascii", "replace").strip())
    except ValueError:
        return None
    return value if np.isfinite(value) and value >= 0 else None
