"""Enrolment without a model: a stand-in engine that writes small files where the real one
would (a test double for the store- and library-side tests), and the quality report it
gives every sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.audio.checks import QualityReport
from engine.engine import SampleLimits
from engine.tts.profile import PreparedSample, VoiceProfile

QUALITY = QualityReport(
    duration_s=4.0,
    speech_s=3.5,
    peak_db=-1.0,
    rms_db=-20.0,
    clipped_fraction=0.0,
    snr_db=30.0,
    verdict="good",
)


class StandInEngine:
    """Writes small files where the real engine would, and can repeat a sample's id."""

    def __init__(self, *, reuse_first_sample_path: bool = False) -> None:
        self.reuse_first_sample_path = reuse_first_sample_path
        self.first: Path | None = None

    async def prepare_sample(self, path: Path, dest: Path, limits: SampleLimits) -> PreparedSample:
        if self.reuse_first_sample_path and self.first is not None:
            dest = self.first
        self.first = self.first or dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(path.read_bytes())
        return PreparedSample(dest, 4.0, 24000, "ab" * 32, QUALITY)

    async def build_profile(self, folder: Path, samples: list[Any]) -> VoiceProfile:
        conditionals = folder / "conds-stand-in.pt"
        conditionals.write_bytes(b"conditionals")
        return VoiceProfile(folder, "stand-in", conditionals, folder / "reference.wav", 4.0)
