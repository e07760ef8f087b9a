"""Audio fixtures generated once per session: espeak-ng speech in every container, and
synthetic tone, silence, noise, clipped, short, long, garbage and empty files.

Test modules import the ``*_fixture`` functions; pytest registers them under their
``name`` (``audio_files``, ``speech_audio``). Each importing module gets its own fixture
definition, so the files are built once per session through ``_BUILT``.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile

from engine.audio import Audio, decode

SENTENCES = (
    "The quick brown fox jumps over the lazy dog. "
    "Parrot learns to speak in your voice, one sentence at a time."
)
RATE = 24000
LIMIT_BYTES = 50 * 1024 * 1024

# name -> ffmpeg output options; m4a is stereo to exercise the downmix.
CONTAINERS: dict[str, list[str]] = {
    "speech.mp3": ["-c:a", "libmp3lame", "-b:a", "64k"],
    "speech_vorbis.ogg": ["-c:a", "libvorbis"],
    "speech_opus.ogg": ["-c:a", "libopus", "-b:a", "32k", "-ar", "48000"],
    "speech.m4a": ["-c:a", "aac", "-ac", "2"],
    "speech.flac": ["-c:a", "flac"],
    "speech.webm": ["-c:a", "libopus"],
}


@dataclass(frozen=True)
class AudioFiles:
    root: Path
    speech_wav: Path
    speech_seconds: float
    containers: dict[str, Path]
    tone: Path
    silence: Path
    noise: Path
    clipped: Path
    short: Path
    long: Path
    garbage: Path
    empty: Path
    playlist: Path
    video_only: Path


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        capture_output=True,
    )


def write_pcm16(path: Path, samples: np.ndarray, rate: int) -> Path:
    soundfile.write(path, samples.astype(np.float32), rate, subtype="PCM_16")
    return path


_BUILT: dict[Path, AudioFiles] = {}


@pytest.fixture(scope="session", name="audio_files")
def audio_files_fixture(tmp_path_factory: pytest.TempPathFactory) -> AudioFiles:
    base = tmp_path_factory.getbasetemp()
    if base not in _BUILT:
        _BUILT[base] = _build(tmp_path_factory.mktemp("audio"))
    return _BUILT[base]


def _build(root: Path) -> AudioFiles:
    speech_wav = root / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(speech_wav), SENTENCES], check=True)
    speech, rate = soundfile.read(speech_wav, dtype="float32")
    containers = {"speech.wav": speech_wav}
    for name, options in CONTAINERS.items():
        ffmpeg("-i", str(speech_wav), *options, str(root / name))
        containers[name] = root / name

    rng = np.random.default_rng(1234)
    seconds = np.arange(5 * rate) / rate
    start = int(1.0 * rate)
    garbage = root / "garbage.mp3"
    garbage.write_bytes(rng.integers(0, 256, 64 * 1024, dtype=np.uint8).tobytes())
    empty = root / "empty.mp3"
    empty.write_bytes(b"")
    # An HLS playlist in disguise: unguarded ffmpeg probes it as HLS and reads speech.mp3.
    playlist = root / "playlist.ogg"
    playlist.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:7\n#EXTINF:6,\nspeech.mp3\n#EXT-X-ENDLIST\n"
    )
    video_only = root / "video.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=d=0.2:s=32x32", "-c:v", "mpeg4", str(video_only))
    return AudioFiles(
        root=root,
        speech_wav=speech_wav,
        speech_seconds=len(speech) / rate,
        containers=containers,
        tone=write_pcm16(root / "tone.wav", 0.3 * np.sin(2 * np.pi * 220 * seconds), rate),
        silence=write_pcm16(root / "silence.wav", np.zeros(5 * rate), rate),
        noise=write_pcm16(root / "noise.wav", 0.1 * rng.standard_normal(5 * rate), rate),
        clipped=write_pcm16(root / "clipped.wav", np.clip(speech * 20, -1.0, 1.0), rate),
        short=write_pcm16(root / "short.wav", speech[start : start + rate // 2], rate),
        long=write_pcm16(root / "long.wav", np.tile(speech, 10), rate),
        garbage=garbage,
        empty=empty,
        playlist=playlist,
        video_only=video_only,
    )


@pytest.fixture(scope="session", name="speech_audio")
def speech_audio_fixture(audio_files: AudioFiles) -> Audio:
    """The espeak-ng sentences, decoded to 24 kHz mono float32."""
    return decode(audio_files.speech_wav, sample_rate=RATE, max_bytes=LIMIT_BYTES, max_seconds=60)
