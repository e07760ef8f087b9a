"""How a cover's vocals are sung: choosing between the voice's RVC model and zero-shot."""

from __future__ import annotations

from engine.config import SingingMethod
from engine.errors import ParrotError

COVER_SEED = 0
"""Covers are cached by their inputs, so their randomness is fixed too."""


class NoSingingModelError(ParrotError, ValueError):
    """RVC was asked for, but the voice has no RVC model attached."""


def choose_method(method: SingingMethod, has_singing_model: bool) -> SingingMethod:
    """The concrete method (never AUTO): RVC when the voice has a model, else zero-shot."""
    if method is SingingMethod.AUTO:
        return SingingMethod.RVC if has_singing_model else SingingMethod.ZERO_SHOT
    if method is SingingMethod.RVC and not has_singing_model:
        raise NoSingingModelError(
            "this voice has no singing model: attach an RVC model to it, or choose the "
            "zero-shot method"
        )
    return method
