"""What the owner and members may choose about one training run."""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import ParrotError

TRAINING_SAMPLE_RATE = 40_000
"""Parrot trains RVC v2 at 40 kHz, the rate of the standard pretrained weights it starts from."""


class InvalidTrainingParamsError(ParrotError, ValueError):
    """A training parameter outside what the run can do."""


@dataclass(frozen=True, slots=True)
class TrainingParams:
    epochs: int = 100
    batch_size: int = 0
    """Segments per step; 0 picks what fits the device (4 on CPU, more on a large GPU)."""
    save_every_epochs: int = 5
    """A resumable checkpoint is written after every this many epochs (and at the end)."""
    learning_rate: float = 1e-4
    seed: int = 1234
    allow_cpu: bool = False
    """Training on a CPU takes days: it runs only when the owner allows it."""
    min_speech_seconds: float = 60.0
    """Less clean speech than this is refused (NotEnoughAudioError) before any work."""

    def __post_init__(self) -> None:
        if not 1 <= self.epochs <= 2000:
            raise InvalidTrainingParamsError("epochs must be between 1 and 2000")
        if not 0 <= self.batch_size <= 64:
            raise InvalidTrainingParamsError("the batch size must be between 0 (auto) and 64")
        if self.save_every_epochs < 1:
            raise InvalidTrainingParamsError("checkpoints must be saved at least every epoch")
        if self.min_speech_seconds < 0:
            raise InvalidTrainingParamsError("the minimum of speech cannot be negative")
        if not 0 < self.learning_rate < 1:
            raise InvalidTrainingParamsError("the learning rate must be between 0 and 1")
