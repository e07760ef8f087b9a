"""Why an uploaded clip was refused, in words a person understands."""

from __future__ import annotations

from enum import StrEnum

from engine.errors import ParrotError, as_sentence


class RejectReason(StrEnum):
    """Machine-readable cause of an :class:`AudioRejectedError`."""

    TOO_BIG = "too_big"
    UNREADABLE = "unreadable"
    TIMEOUT = "timeout"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    SILENT = "silent"
    CLIPPED = "clipped"
    NOISY = "noisy"


class AudioRejectedError(ParrotError, ValueError):
    """A clip that cannot be used; ``str(error)`` is safe to show to the uploader.

    ``detail`` carries technical context for logs (such as ffmpeg's stderr tail) and is
    never meant for users.
    """

    def __init__(self, reason: RejectReason, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.detail = detail

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.reason, self.message, self.detail))

    def for_member(self) -> str:
        return as_sentence(f"That audio can't be used: {self.message}")


def _rebuild(reason: RejectReason, message: str, detail: str | None) -> AudioRejectedError:
    return AudioRejectedError(reason, message, detail=detail)


class AudioToolError(RuntimeError):
    """ffmpeg failed on input we produced ourselves: a bug or a broken install, not the user's."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


def format_seconds(value: float) -> str:
    """``3.0`` -> ``"3"``, ``2.5`` -> ``"2.5"``: limits read naturally in messages."""
    return f"{value:.1f}".removesuffix(".0")
