"""Real speech for tests: espeak-ng writes it, ffmpeg puts it in any container."""

from __future__ import annotations

import subprocess
from pathlib import Path

SENTENCES = (
    "The quick brown fox jumps over the lazy dog. "
    "Parrot listens carefully and then repeats every word in a clear voice."
)


def espeak(path: Path, text: str = SENTENCES, *, voice: str = "en", speed: int = 150) -> Path:
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text],
        check=True,
        capture_output=True,
    )
    return path


def convert(source: Path, target: Path, *extra: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source), *extra, str(target)],
        check=True,
        capture_output=True,
    )
    return target
