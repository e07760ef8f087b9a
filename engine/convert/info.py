"""What an RVC voice model is, in the terms people see in RVC's own interface (no torch)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RvcVersion(StrEnum):
    """v1 models read 256-d content features, v2 models 768-d ones."""

    V1 = "v1"
    V2 = "v2"

    @property
    def content_dim(self) -> int:
        return 256 if self is RvcVersion.V1 else 768


@dataclass(frozen=True, slots=True)
class RvcModelInfo:
    """A validated voice model's description, shown when it is attached."""

    version: RvcVersion
    sample_rate: int
    has_f0: bool
    speakers: int
    info: str = ""

    def __str__(self) -> str:
        pitch = "pitch-guided" if self.has_f0 else "without pitch guidance"
        speakers = "1 speaker" if self.speakers == 1 else f"{self.speakers} speakers"
        return f"RVC {self.version.value}, {self.sample_rate // 1000} kHz, {pitch}, {speakers}"
