"""Errors of the voice-conversion layer; every message says what is wrong and what to do."""

from __future__ import annotations

from engine.errors import ParrotError, as_sentence
from engine.tts.errors import ModelNotDownloadedError


class RvcCheckpointError(ParrotError, ValueError):
    """A voice model file that is not a usable RVC v1/v2 export; the message names the problem."""

    def for_member(self) -> str:
        return as_sentence(f"That singing model can't be used: {self}")


class RvcIndexError(ParrotError, ValueError):
    """A ``.index`` file that faiss cannot read, or one made for another kind of model."""

    def for_member(self) -> str:
        return as_sentence(f"That index can't be used: {self}")


class ConversionWeightsMissingError(ModelNotDownloadedError):
    """The content encoder or the RMVPE weights are not on this machine."""


class PitchExtractorUnavailableError(RuntimeError):
    """A pitch method whose library is not installed."""


class ConversionInputError(ValueError):
    """Audio that cannot be converted (empty, too short, not finite)."""


class ContentEncoderError(ValueError):
    """A content-encoder folder that is incomplete or not HuBERT-base shaped."""
