"""What one decode request asks for, and how and why it ended."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from engine.errors import ParrotError

if TYPE_CHECKING:
    from torch import Tensor

DEFAULT_REPEAT_LIMIT = 50
"""Two seconds of one speech token (25 per second) is a runaway, not speech."""


class DecoderBusyError(ParrotError, RuntimeError):
    """Every row of the decoder's batch is taken; the request may be retried later."""

    def for_member(self) -> str:
        return "Parrot is speaking for too many people right now; try again in a moment."


@dataclass(frozen=True, slots=True)
class DecodeParams:
    """Sampling and stopping for one request; every request in a batch has its own.

    Each decoder applies them in its model's own order. Guided (original, multilingual):
    guidance, repetition penalty, temperature, min_p, top_p; ``top_k`` must stay 0.
    Turbo: temperature, top_k, top_p, repetition penalty; ``cfg_weight`` and ``min_p``
    are ignored (Turbo has neither). A temperature of 0 decodes greedily: the most likely
    token of what the chain leaves at temperature 1 (for guided decoding the filters then
    change nothing, since each keeps the most likely token).
    """

    cfg_weight: float = 0.5
    temperature: float = 0.8
    repetition_penalty: float = 1.2
    min_p: float = 0.05
    top_p: float = 1.0
    top_k: int = 0
    """Keep only the ``top_k`` most likely tokens (Turbo only); 0 keeps them all."""
    seed: int = 0
    max_new_tokens: int = 1000
    """The token budget, stop token included."""
    repeat_limit: int = DEFAULT_REPEAT_LIMIT
    """The request ends once its last ``repeat_limit`` tokens are one and the same."""

    def __post_init__(self) -> None:
        values = (self.cfg_weight, self.temperature, self.repetition_penalty, self.min_p)
        if not all(math.isfinite(value) for value in (*values, self.top_p)):
            raise ValueError("decode parameters must be finite numbers")
        if self.cfg_weight < 0 or self.temperature < 0 or self.repetition_penalty <= 0:
            raise ValueError("cfg_weight and temperature must be >= 0, repetition_penalty > 0")
        if not 0 <= self.min_p <= 1 or not 0 < self.top_p <= 1:
            raise ValueError("min_p must be in [0, 1] and top_p in (0, 1]")
        if self.top_k < 0:
            raise ValueError("top_k must be >= 0 (0 keeps every token)")
        if self.max_new_tokens < 1 or self.repeat_limit < 1:
            raise ValueError("max_new_tokens and repeat_limit must be positive")
        if not 0 <= self.seed < 2**63:
            raise ValueError("seed must be a non-negative 63-bit integer")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


class FinishReason(StrEnum):
    STOP_TOKEN = "stop_token"
    BUDGET = "budget"
    REPETITION = "repetition"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class FinishedRequest:
    request_id: int
    tokens: list[int]
    """The speech tokens produced, without the stop token."""
    reason: FinishReason


@dataclass(frozen=True, slots=True)
class StepOutput:
    """What one decode step produced for the requests that were in the batch."""

    tokens: dict[int, int] = field(default_factory=dict)
    """Each request's new speech token (absent when the new token was the stop token)."""
    finished: list[FinishedRequest] = field(default_factory=list)
    logits: dict[int, Tensor] = field(default_factory=dict)
    """Per request, the float32 logits the token was drawn from, before any penalty or
    filter (guided: after guidance; Turbo: the speech head's); filled only when the
    step was asked to keep them."""

    @property
    def guided_logits(self) -> dict[int, Tensor]:
        """The guided decoder's name for :attr:`logits`."""
        return self.logits
