"""Speech parameters, validated once so that a bad value never reaches the model."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from engine.errors import ParrotError

SPEECH_TOKENS_PER_SECOND = 25
"""Chatterbox's S3 speech tokens run at 25 per second of audio."""
MAX_TOKENS_PER_CHUNK = 1000
"""Chatterbox's own ceiling (40 s of speech); text chunks are far below it."""


class InvalidSpeechParamsError(ParrotError, ValueError):
    """A speech parameter out of range; the message names the parameter and its range.

    :attr:`parameter` (the field's name) and :attr:`bounds` let a caller word the refusal
    for its own audience (the bot names ``exaggeration`` "expressiveness").
    """

    def __init__(
        self,
        message: str,
        *,
        parameter: str | None = None,
        bounds: tuple[float, float] | None = None,
        low_open: bool = False,
    ) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.bounds = bounds
        """The allowed ``(low, high]`` or ``[low, high]`` (see :attr:`low_open`)."""
        self.low_open = low_open


def _check_range(
    name: str, value: float, low: float, high: float, *, low_open: bool = False
) -> None:
    too_low = value <= low if low_open else value < low
    if math.isfinite(value) and not too_low and value <= high:
        return
    bracket = "(" if low_open else "["
    message = (
        f"{name} must be in {bracket}{low}, {high}], got {value}"
        if math.isfinite(value)
        else f"{name} must be a finite number"
    )
    raise InvalidSpeechParamsError(message, parameter=name, bounds=(low, high), low_open=low_open)


@dataclass(frozen=True, slots=True)
class SpeechParams:
    """How to speak. Defaults are Chatterbox's recommended ones."""

    exaggeration: float = 0.5
    cfg_weight: float = 0.5
    """Classifier-free guidance. Chatterbox always runs a guided batch of two: 0 crashes it."""
    temperature: float = 0.8
    repetition_penalty: float = 1.2
    min_p: float = 0.05
    top_p: float = 1.0
    seed: int | None = None
    """Same seed, text and voice give the same audio."""
    decoder_steps: int | None = None
    """Flow-matching steps in S3Gen; None keeps the model's default (10, or 2 for turbo)."""
    max_tokens_per_chunk: int | None = None
    """Upper bound of speech tokens per chunk; None derives it from the chunk's text."""
    language: str | None = None
    """Language code for the multilingual model (e.g. 'fr'); ignored by the others."""

    def __post_init__(self) -> None:
        _check_range("exaggeration", self.exaggeration, 0.0, 2.0)
        _check_range("cfg_weight", self.cfg_weight, 0.0, 1.0, low_open=True)
        _check_range("temperature", self.temperature, 0.0, 2.0, low_open=True)
        _check_range("repetition_penalty", self.repetition_penalty, 1.0, 3.0)
        _check_range("min_p", self.min_p, 0.0, 1.0)
        _check_range("top_p", self.top_p, 0.0, 1.0, low_open=True)
        if self.seed is not None and not 0 <= self.seed < 2**63:
            raise InvalidSpeechParamsError(
                "seed must be a non-negative 63-bit integer",
                parameter="seed",
                bounds=(0, 2**63 - 1),
            )
        if self.decoder_steps is not None and not 1 <= self.decoder_steps <= 50:
            raise InvalidSpeechParamsError("decoder_steps must be in [1, 50]")
        if self.max_tokens_per_chunk is not None and not (
            1 <= self.max_tokens_per_chunk <= MAX_TOKENS_PER_CHUNK
        ):
            raise InvalidSpeechParamsError(
                f"max_tokens_per_chunk must be in [1, {MAX_TOKENS_PER_CHUNK}]"
            )

    def with_seed(self, seed: int | None) -> SpeechParams:
        return replace(self, seed=seed)


def token_budget(text: str, params: SpeechParams) -> int:
    """How many speech tokens one chunk may take.

    Generous for real speech (about 3× the length a fast reader needs, at least 4 s)
    but bounded, so a model that never emits its stop token cannot run for 40 s.
    """
    if params.max_tokens_per_chunk is not None:
        return params.max_tokens_per_chunk
    seconds = max(4.0, len(text) / 15.0 * 3.0)
    return min(MAX_TOKENS_PER_CHUNK, math.ceil(seconds * SPEECH_TOKENS_PER_SECOND))
