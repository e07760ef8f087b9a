"""Write :class:`Audio` to WAV, Ogg/Opus or MP3 files (atomically) or to bytes."""

from __future__ import annotations

import io
import subprocess
import tempfile
from enum import StrEnum
from pathlib import Path

import numpy as np
import soundfile

from engine.audio._ffmpeg import FFMPEG, QUIET, stderr_tail
from engine.audio.errors import AudioToolError
from engine.audio.types import Audio
from engine.files import atomic_path, atomic_write_bytes

ENCODE_TIMEOUT_S = 300.0


class AudioFormat(StrEnum):
    """Output formats; the value doubles as the file suffix."""

    WAV = "wav"
    OGG_OPUS = "ogg"
    MP3 = "mp3"


# (ffmpeg encoder, muxer, default bitrate)
_CODECS: dict[AudioFormat, tuple[str, str, str]] = {
    AudioFormat.OGG_OPUS: ("libopus", "ogg", "96k"),
    AudioFormat.MP3: ("libmp3lame", "mp3", "192k"),
}


def _pcm16_wav(audio: Audio) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, _clipped(audio), audio.sample_rate, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def _clipped(audio: Audio) -> np.ndarray:
    return np.clip(audio.samples, -1.0, 1.0)


def write_wav(audio: Audio, path: Path) -> None:
    """Write 16-bit PCM WAV; samples outside [-1, 1] are clipped. Atomic."""
    atomic_write_bytes(path, _pcm16_wav(audio))


def ffmpeg_encode_pcm(
    frames: np.ndarray,
    sample_rate: int,
    target: Path,
    fmt: AudioFormat,
    *,
    bitrate: str | None = None,
    output_rate: int | None = None,
    timeout: float = ENCODE_TIMEOUT_S,
) -> None:
    """Encode float ``frames`` (``(n,)`` mono or ``(n, channels)`` interleaved) with ffmpeg
    from raw f32le on stdin into the file ``target`` (overwritten); clipped to [-1, 1]."""
    codec, muxer, default_bitrate = _CODECS[fmt]
    channels = 1 if frames.ndim == 1 else frames.shape[1]
    resample = ["-ar", str(output_rate)] if output_rate else []
    command = [
        FFMPEG,
        *QUIET,
        "-y",
        "-f",
        "f32le",
        "-ar",
        str(sample_rate),
        "-ac",
        str(channels),
        "-i",
        "pipe:0",
        *resample,
        "-c:a",
        codec,
        "-b:a",
        bitrate or default_bitrate,
        "-f",
        muxer,
        "file:" + str(target.resolve()),
    ]
    data = np.clip(frames, -1.0, 1.0).astype("<f4").tobytes()
    try:
        result = subprocess.run(
            command, input=data, capture_output=True, timeout=timeout, check=False
        )
    except FileNotFoundError as exc:
        raise AudioToolError("ffmpeg is not installed or not on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise AudioToolError(f"ffmpeg took over {timeout:.0f} s to encode") from exc
    if result.returncode != 0:
        raise AudioToolError(
            f"ffmpeg failed to encode {fmt.name} at {bitrate or default_bitrate}"
            f" (exit {result.returncode})",
            detail=stderr_tail(result.stderr),
        )


def encode(audio: Audio, path: Path, fmt: AudioFormat, *, bitrate: str | None = None) -> None:
    """Write ``audio`` to ``path`` as ``fmt`` (``bitrate`` like ``"96k"``); atomic."""
    if fmt is AudioFormat.WAV:
        write_wav(audio, path)
        return
    with atomic_path(path) as temporary:
        ffmpeg_encode_pcm(audio.samples, audio.sample_rate, temporary, fmt, bitrate=bitrate)


def encoded_bytes(audio: Audio, fmt: AudioFormat, bitrate: str | None = None) -> bytes:
    """The encoded file's bytes, e.g. for an upload.

    MP3 goes through a real file, not a pipe: only a seekable output gets the LAME
    header that tells decoders to drop the encoder's padding.
    """
    if fmt is AudioFormat.WAV:
        return _pcm16_wav(audio)
    with tempfile.TemporaryDirectory(prefix="parrot-encode-") as folder:
        target = Path(folder) / f"out.{fmt.value}"
        ffmpeg_encode_pcm(audio.samples, audio.sample_rate, target, fmt, bitrate=bitrate)
        return target.read_bytes()
