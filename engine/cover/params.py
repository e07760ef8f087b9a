"""What a person may choose for a cover, validated once with messages that name the range."""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.audio import AudioFormat
from engine.errors import ParrotError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
"""The byte budget of a cover when the caller names none (callers pass their own limit)."""


class InvalidCoverParamsError(ParrotError, ValueError):
    """A cover setting out of range; the message names it and its range."""


def _check(name: str, value: float, low: float, high: float) -> None:
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidCoverParamsError(f"{name} must be between {low:g} and {high:g}, got {value}")


@dataclass(frozen=True, slots=True)
class CoverParams:
    semitones: int = 0
    """Key change for the whole song: vocals and instrumental move together."""
    fit_octaves: bool = True
    """Move the melody by whole octaves towards the voice's own range."""
    vocal_gain_db: float = 0.0
    instrumental_gain_db: float = 0.0
    high_pass_hz: float = 80.0
    """0 turns the vocal high-pass off."""
    compress: bool = True
    reverb: float = 0.15
    """Wet share of the vocal reverb, 0 (dry) to 1."""
    target_lufs: float = -14.0
    output_format: AudioFormat = AudioFormat.OGG_OPUS
    max_bytes: int = DEFAULT_MAX_BYTES
    """The most the encoded file may weigh; the bitrate is chosen to fit it."""

    def __post_init__(self) -> None:
        if not isinstance(self.semitones, int) or not -12 <= self.semitones <= 12:
            raise InvalidCoverParamsError(
                f"semitones must be a whole number between -12 and 12, got {self.semitones}"
            )
        _check("vocal_gain_db", self.vocal_gain_db, -24.0, 12.0)
        _check("instrumental_gain_db", self.instrumental_gain_db, -24.0, 12.0)
        _check("high_pass_hz", self.high_pass_hz, 0.0, 400.0)
        _check("reverb", self.reverb, 0.0, 1.0)
        _check("target_lufs", self.target_lufs, -30.0, -6.0)
        if self.output_format is AudioFormat.WAV:
            raise InvalidCoverParamsError("covers are sent as Opus or MP3, not WAV")
        if self.max_bytes < 64 * 1024:
            raise InvalidCoverParamsError("max_bytes must be at least 64 KiB")

    def effects_settings(self) -> dict[str, object]:
        return {
            "high_pass_hz": self.high_pass_hz,
            "compress": self.compress,
            "reverb": self.reverb,
        }

    def mix_settings(self) -> dict[str, object]:
        return {
            "vocal_gain_db": self.vocal_gain_db,
            "instrumental_gain_db": self.instrumental_gain_db,
            "target_lufs": self.target_lufs,
            "format": self.output_format.value,
            "max_bytes": self.max_bytes,
        }
