"""Voices that survive a TTS model switch: rebuilt from their stored samples
(:mod:`.rebuilder`), and what people are told until they are (:mod:`.readiness`)."""

from bot.voices.rebuild.readiness import (
    NOT_PREPARED,
    PREPARING,
    VoiceBeingPreparedError,
    VoiceNotPreparedError,
    preparation_notes,
    preparing_text,
    ready_profile,
)
from bot.voices.rebuild.rebuilder import (
    REBUILDABLE,
    RebuildOutcome,
    RebuildReport,
    SamplesProblemError,
    VoiceRebuilder,
    describe_failure,
)

__all__ = [
    "NOT_PREPARED",
    "PREPARING",
    "REBUILDABLE",
    "RebuildOutcome",
    "RebuildReport",
    "SamplesProblemError",
    "VoiceBeingPreparedError",
    "VoiceNotPreparedError",
    "VoiceRebuilder",
    "describe_failure",
    "preparation_notes",
    "preparing_text",
    "ready_profile",
]
