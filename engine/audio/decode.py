"""Decode any uploaded audio file to mono float32 with ffmpeg, within size and time limits."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from engine.audio._ffmpeg import FFMPEG, FFPROBE, INPUT_GUARDS, QUIET, input_url, stderr_tail
from engine.audio.errors import (
    AudioRejectedError,
    AudioToolError,
    InvalidSamplesError,
    RejectReason,
    format_seconds,
)
from engine.audio.types import Audio
from engine.audio.wav import count_invalid_samples, read_wav_layout

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


def decode_command(
    path: Path, *, sample_rate: int, max_seconds: float, averaged_downmix: bool = False
) -> list[str]:
    """The ffmpeg argument list that decodes ``path`` to raw mono f32le on stdout.

    ``averaged_downmix``: scale the downmix so that its gains add up to 1. ffmpeg's own
    matrix for a layout it does not know (8 channels, say) adds them up and goes far past
    full scale, which would read as clipping."""
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
        *(("-rematrix_maxval", "1.0") if averaged_downmix else ()),
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


def _refuse_invalid_wav_samples(path: Path) -> None:
    """Float WAVs can store NaN or infinity; resampling would smear or hide them."""
    layout = read_wav_layout(path)
    if layout is None or not layout.is_float:
        return
    invalid, total = count_invalid_samples(path, layout)
    if invalid:
        raise InvalidSamplesError(invalid, total)


def _run_ffmpeg(command: list[str], timeout: float) -> bytes:
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
    if result.returncode != 0:
        cause = subprocess.CalledProcessError(result.returncode, command, stderr=result.stderr)
        raise _unreadable(stderr_tail(result.stderr)) from cause
    if not result.stdout:
        raise AudioRejectedError(
            RejectReason.UNREADABLE,
            "The file contains no audio.",
            detail=stderr_tail(result.stderr),
        )
    return result.stdout


def _samples(data: bytes) -> np.ndarray:
    data = data[: len(data) - len(data) % BYTES_PER_SAMPLE]
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def decode(
    path: Path,
    *,
    sample_rate: int = 24000,
    max_bytes: int,
    max_seconds: float,
    timeout: float = 60.0,
) -> Audio:
    """Decode ``path`` to mono float32 at ``sample_rate``; blocking, run it off the event loop.

    Raises :class:`AudioRejectedError` (TOO_BIG, UNREADABLE, TIMEOUT, TOO_LONG,
    INVALID_SAMPLES). At most ``max_seconds + 1`` s are decoded, so huge inputs never reach
    memory.
    """
    _check_file(path, max_bytes)
    _refuse_invalid_wav_samples(path)
    command = decode_command(path, sample_rate=sample_rate, max_seconds=max_seconds)
    samples = _samples(_run_ffmpeg(command, timeout))
    if samples.size == 0:
        raise AudioRejectedError(RejectReason.UNREADABLE, "The file contains no audio.")
    if samples.size > round(max_seconds * sample_rate):
        raise AudioRejectedError(
            RejectReason.TOO_LONG,
            f"The clip is longer than {format_seconds(max_seconds)} s; "
            f"send {format_seconds(max_seconds)} s or less.",
        )
    finite = np.isfinite(samples)
    if not finite.all():
        raise InvalidSamplesError(int(samples.size - np.count_nonzero(finite)), samples.size)
    if float(np.max(np.abs(samples))) > 1.0 and (probe_channels(path) or 0) > 2:
        averaged = decode_command(
            path, sample_rate=sample_rate, max_seconds=max_seconds, averaged_downmix=True
        )
        samples = _samples(_run_ffmpeg(averaged, timeout))
    return Audio(samples, sample_rate)


def probe_channels(path: Path, timeout: float = 10.0) -> int | None:
    """The first audio stream's channel count via ffprobe, or None if it does not say."""
    value = _probe(path, ["-select_streams", "a:0", "-show_entries", "stream=channels"], timeout)
    return int(value) if value is not None and value.isdigit() else None


def _probe(path: Path, entries: list[str], timeout: float) -> str | None:
    command = [
        FFPROBE,
        "-hide_banner",
        "-v",
        "error",
        *INPUT_GUARDS,
        *entries,
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
    return result.stdout.decode("ascii", "replace").strip() or None


def probe_duration(path: Path, timeout: float = 10.0) -> float | None:
    """The container's stated duration in seconds via ffprobe, or None if it does not say."""
    text = _probe(path, ["-show_entries", "format=duration"], timeout)
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and np.isfinite(value) and value >= 0 else None
