"""Text preparation for speech: reading Discord messages aloud and chunking for the TTS."""

from engine.text.chunking import (
    CHARS_PER_SECOND,
    DEFAULT_MAX_CHARS,
    estimate_speech_seconds,
    split_for_speech,
)
from engine.text.normalize import normalize_for_reading

__all__ = [
    "CHARS_PER_SECOND",
    "DEFAULT_MAX_CHARS",
    "estimate_speech_seconds",
    "normalize_for_reading",
    "split_for_speech",
]
