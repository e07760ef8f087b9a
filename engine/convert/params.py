"""Conversion parameters, validated once so that a bad value never reaches a model."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from engine.errors import ParrotError

MAX_PITCH_SHIFT = 24
"""Two octaves either way; beyond that every voice turns into a cartoon."""


class PitchMethod(StrEnum):
    """How the pitch contour of the input is measured."""

    RMVPE = "rmvpe"
    """Neural, robust on sung vocals with residual accompaniment; needs ``rmvpe.pt``."""
    FCPE = "fcpe"
    """Neural and fast; its weights ship inside the ``torchfcpe`` wheel."""
    PM = "pm"
    """Praat's autocorrelation (parselmouth): no weights, weakest on noisy vocals."""


class InvalidConversionParamsError(ParrotError, ValueError):
    """A conversion parameter out of range; the message names it and its range."""


def _check_fraction(name: str, value: float, high: float = 1.0) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidConversionParamsError(f"{name} must be a finite number, got {value!r}")
    if not 0.0 <= value <= high:
        raise InvalidConversionParamsError(f"{name} must be in [0, {high}], got {value}")


@dataclass(frozen=True, slots=True)
class ConversionParams:
    """How to convert. Defaults are the ones RVC's own interface starts with."""

    pitch_shift: int = 0
    """Semitones added to the input's pitch (+12 = one octave up), in [-24, 24]."""
    pitch_method: PitchMethod = PitchMethod.RMVPE
    index_rate: float = 0.75
    """How much of the voice's training features (the ``.index``) replace the input's, in [0, 1]."""
    protect: float = 0.33
    """Keeps breaths and consonants (unvoiced frames) closer to the input; 0.5 turns it off."""
    rms_mix_rate: float = 0.25
    """Loudness envelope: 0 follows the input's, 1 keeps the converted voice's own."""
    speaker_id: int = 0
    """For multi-speaker models; almost every community model has one speaker (0)."""
    seed: int | None = None
    """Same seed, input and model give the same audio; None draws a fresh one."""

    def __post_init__(self) -> None:
        if isinstance(self.pitch_shift, bool) or not isinstance(self.pitch_shift, int):
            raise InvalidConversionParamsError(
                f"pitch_shift must be a whole number of semitones, got {self.pitch_shift!r}"
            )
        if not -MAX_PITCH_SHIFT <= self.pitch_shift <= MAX_PITCH_SHIFT:
            raise InvalidConversionParamsError(
                f"pitch_shift must be in [-{MAX_PITCH_SHIFT}, {MAX_PITCH_SHIFT}] semitones, "
                f"got {self.pitch_shift}"
            )
        try:
            object.__setattr__(self, "pitch_method", PitchMethod(self.pitch_method))
        except ValueError:
            choices = ", ".join(method.value for method in PitchMethod)
            raise InvalidConversionParamsError(
                f"pitch_method must be one of {choices}, got {self.pitch_method!r}"
            ) from None
        _check_fraction("index_rate", self.index_rate)
        _check_fraction("protect", self.protect, high=0.5)
        _check_fraction("rms_mix_rate", self.rms_mix_rate)
        if isinstance(self.speaker_id, bool) or not isinstance(self.speaker_id, int):
            raise InvalidConversionParamsError("speaker_id must be a whole number")
        if self.speaker_id < 0:
            raise InvalidConversionParamsError(f"speaker_id must be >= 0, got {self.speaker_id}")
        if self.seed is not None and (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int)
            or not 0 <= self.seed < 2**63
        ):
            raise InvalidConversionParamsError("seed must be a non-negative 63-bit integer")

    @property
    def protects(self) -> bool:
        """Whether protection is active (0.5 means off, as in RVC)."""
        return self.protect < 0.5
