"""What enrolment leaves on disk for a voice, and how synthesis finds it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from engine.audio import QualityReport

REFERENCE_NAME = "reference.wav"
SAMPLES_DIR = "samples"


def conditionals_name(backend_name: str) -> str:
    """Conditionals are per model: a voice may hold one file for each."""
    return f"conds-{backend_name}.pt"


@dataclass(frozen=True, slots=True)
class PreparedSample:
    """One uploaded clip after decoding, checks and loudness normalisation."""

    path: Path
    duration_s: float
    sample_rate: int
    sha256: str
    quality: QualityReport


@dataclass(frozen=True, slots=True)
class VoiceProfile:
    """A voice ready to speak: its folder and the model-specific conditionals in it."""

    folder: Path
    backend: str
    conditionals: Path
    reference: Path
    reference_seconds: float

    @classmethod
    def at(cls, folder: Path, backend: str) -> VoiceProfile:
        return cls(
            folder, backend, folder / conditionals_name(backend), folder / REFERENCE_NAME, 0.0
        )

    @property
    def exists(self) -> bool:
        return self.conditionals.is_file()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
