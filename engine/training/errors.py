"""Training failures a member or the owner can act on."""

from __future__ import annotations

from engine.errors import ParrotError


class TrainingError(ParrotError):
    """The base of training failures."""


class NotEnoughAudioError(TrainingError, ValueError):
    """Less clean speech than a model can learn from."""

    def __init__(self, have_seconds: float, need_seconds: float) -> None:
        self.have_seconds = have_seconds
        self.need_seconds = need_seconds
        more = max(0.0, need_seconds - have_seconds)
        super().__init__(
            f"training needs at least {need_seconds:.0f} s of clean speech; this voice has "
            f"{have_seconds:.0f} s, so add about {more:.0f} s more"
        )


class PretrainedWeightsMissingError(TrainingError, FileNotFoundError):
    """The standard RVC v2 pretrained generator/discriminator are not on this machine."""

    def __init__(self, missing: str) -> None:
        super().__init__(
            f"the RVC pretrained weights are missing ({missing}); "
            "run `parrot models download rvc-pretrained`"
        )

    def for_member(self) -> str:
        return "Training is not set up on this bot yet (the owner must download its weights)."


class CpuTrainingNotAllowedError(TrainingError, RuntimeError):
    """No GPU, and the owner has not allowed training on the CPU."""

    def __init__(self) -> None:
        super().__init__(
            "training on the CPU would take days; set PARROT_ALLOW_CPU_TRAINING=1 "
            "(or pass --allow-cpu) to allow it"
        )

    def for_member(self) -> str:
        return "This bot has no GPU for training, and the owner has not allowed CPU training."


class TrainingCheckpointError(TrainingError, ValueError):
    """A checkpoint or pretrained file that cannot be used (wrong format, other config)."""
