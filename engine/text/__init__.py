"""Text preparation for speech: plain text into chunks the TTS can say."""

from engine.text.chunking import (
    CHARS_PER_SECOND,
    DEFAULT_MAX_CHARS,
    estimate_speech_seconds,
    split_for_speech,
)

__all__ = [
    "CHARS_PER_SECOND",
    "DEFAULT_MAX_CHARS",
    "estimate_speech_seconds",
    "split_for_speech",
]
