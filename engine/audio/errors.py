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
    INVALID_SAMPLES = "invalid_samples"
    DAMAGED = "damaged"
    NOT_SPEECH = "not_speech"


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
        return (_rebuild, (type(self), self.reason, self.message, self.detail))

    def for_member(self) -> str:
        return as_sentence(f"That audio can't be used: {self.message}")


def _rebuild(
    cls: type[AudioRejectedError], reason: RejectReason, message: str, detail: str | None
) -> AudioRejectedError:
    """Unpickle any subclass without calling its own constructor (which takes other values)."""
    error = cls.__new__(cls)
    AudioRejectedError.__init__(error, reason, message, detail=detail)
    return error


class InvalidSamplesError(AudioRejectedError):
    """The file stores values that are not audio at all (not-a-number or infinite)."""

    def __init__(self, invalid: int, total: int, *, detail: str | None = None) -> None:
        share = f"{invalid / total:.0%}" if total and invalid < total else "all"
        super().__init__(
            RejectReason.INVALID_SAMPLES,
            f"The file holds invalid samples ({share} of them are not numbers or infinite), "
            "so it is damaged; export the recording again from the app that made it.",
            detail=detail,
        )
        self.invalid = invalid
        self.total = total


class DamagedFileError(AudioRejectedError):
    """The file's header promises far more audio than the file holds, and what is there is
    not usable: a damaged or cut-short file rather than a bad recording."""

    def __init__(
        self, declared_bytes: int, present_bytes: int, *, detail: str | None = None
    ) -> None:
        super().__init__(
            RejectReason.DAMAGED,
            f"The file's header says it holds {format_bytes(declared_bytes)} of audio but the "
            f"file has only {format_bytes(present_bytes)}: it is damaged or was cut short; "
            "export the recording again.",
            detail=detail,
        )
        self.declared_bytes = declared_bytes
        self.present_bytes = present_bytes


class NotSpeechError(AudioRejectedError):
    """A steady tone or music where a voice sample should be someone speaking."""

    def __init__(self, what: str, *, detail: str | None = None) -> None:
        super().__init__(
            RejectReason.NOT_SPEECH,
            f"The clip is {what}, not speech; send a recording of the voice speaking on its own.",
            detail=detail,
        )
        self.what = what


class AudioToolError(RuntimeError):
    """ffmpeg failed on input we produced ourselves: a bug or a broken install, not the user's."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


def format_seconds(value: float) -> str:
    """``3.0`` -> ``"3"``, ``2.5`` -> ``"2.5"``: limits read naturally in messages."""
    return f"{value:.1f}".removesuffix(".0")


def format_bytes(size: int) -> str:
    """``4294967040`` -> ``"4 GB"``, ``98304`` -> ``"96 KB"``: sizes people read at a glance."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"
