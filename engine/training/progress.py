"""What a training job reports and returns (no torch: the bot imports these freely)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class TrainingProgress:
    stage: str
    """"preparing" | "training" | "indexing" | "exporting"."""
    epoch: int
    """Epochs finished."""
    epochs: int
    step: int
    loss: float | None
    """Mean total generator loss of the last finished epoch (None before one)."""
    mel_loss: float | None
    seconds_left: float | None
    fraction: float
    """0..1 over the whole job."""


@dataclass(frozen=True, slots=True)
class TrainedModel:
    model: Path
    """The exported ``.pth`` (RVC inference format)."""
    index: Path
    """The faiss ``.index`` built from the training features."""
    epochs: int
    seconds_of_audio: float
