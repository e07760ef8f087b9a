"""A loaded voice model: the synthesizer on a device plus what the export says about it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from engine.convert.checkpoint import read_checkpoint
from engine.convert.info import RvcModelInfo
from engine.convert.synthesizer import RvcVersion, Synthesizer


@dataclass(frozen=True, eq=False, slots=True)
class RvcModel:
    synthesizer: Synthesizer
    info: RvcModelInfo
    path: Path
    device: str

    @property
    def version(self) -> RvcVersion:
        return self.info.version

    @property
    def sample_rate(self) -> int:
        return self.info.sample_rate

    @property
    def has_f0(self) -> bool:
        return self.info.has_f0

    @property
    def hop_length(self) -> int:
        return self.synthesizer.config.hop_length

    def describe(self) -> RvcModelInfo:
        return self.info


def load_rvc_model(path: Path, device: str = "cpu") -> RvcModel:
    """Validate an export and load it for inference (float32) on ``device``."""
    checkpoint = read_checkpoint(Path(path))
    with torch.device("meta"):
        synthesizer = Synthesizer(checkpoint.config)
    synthesizer.load_state_dict(checkpoint.weights, strict=True, assign=True)
    synthesizer = synthesizer.to(device).eval().requires_grad_(False)
    return RvcModel(synthesizer=synthesizer, info=checkpoint.info, path=Path(path), device=device)
