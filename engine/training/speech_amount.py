"""How much clean speech a set of recordings holds: the gate before any training work.

"Active speech" is measured the way enrolment measures it (see
:func:`engine.audio.checks.assess`): 20 ms frames louder than a threshold set by the
clip's own speech level and noise floor. No model is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.audio import Audio, decode, remove_dc, trim_silence
from engine.audio.checks import (
    ACTIVE_ABOVE_FLOOR_DB,
    ACTIVE_GATE_DB,
    ACTIVE_RANGE_DB,
    FRAME_S,
    NOISE_PERCENTILE,
    SPEECH_PERCENTILE,
    frame_levels,
)

MAX_SOURCE_SECONDS = 1800.0
"""One training recording is decoded up to this long (30 min: 288 MB at 40 kHz)."""
MAX_SOURCE_BYTES = 1024 * 1024 * 1024
COUNTING_RATE = 16_000
"""Counting speech needs no more bandwidth than this."""


def read_source(path: Path, sample_rate: int) -> Audio:
    """Decode one recording to mono float32 with Parrot's bounded decoder; blocking.

    Raises :class:`~engine.audio.AudioRejectedError` for an unreadable or oversized file.
    """
    return decode(
        Path(path),
        sample_rate=sample_rate,
        max_bytes=MAX_SOURCE_BYTES,
        max_seconds=MAX_SOURCE_SECONDS,
        timeout=max(60.0, MAX_SOURCE_SECONDS / 10),
    )


def speech_threshold_db(levels: np.ndarray) -> float | None:
    """The level (dBFS) above which a frame counts as speech; None when nothing is audible.

    The same rule as enrolment's checks: never below the absolute gate, nor too far under
    the clip's speech level, nor too close to its noise floor.
    """
    gated = levels[levels > ACTIVE_GATE_DB]
    if gated.size == 0:
        return None
    noise_floor = float(np.percentile(levels, NOISE_PERCENTILE))
    speech_level = float(np.percentile(gated, SPEECH_PERCENTILE))
    return max(ACTIVE_GATE_DB, speech_level - ACTIVE_RANGE_DB, noise_floor + ACTIVE_ABOVE_FLOOR_DB)


def active_frames(audio: Audio, frame_s: float = FRAME_S) -> np.ndarray:
    """One bool per ``frame_s`` frame of ``audio`` (the last partial frame dropped)."""
    if len(audio) == 0:
        return np.zeros(0, dtype=bool)
    levels = frame_levels(audio, frame_s)
    threshold = speech_threshold_db(levels)
    if threshold is None:
        return np.zeros(levels.shape, dtype=bool)
    active: np.ndarray = levels > threshold
    return active


def speech_seconds(audio: Audio) -> float:
    """Seconds of active speech in ``audio`` once leading and trailing silence is cut."""
    trimmed = trim_silence(remove_dc(audio))
    return float(np.count_nonzero(active_frames(trimmed))) * FRAME_S


def clean_speech_seconds(sources: Sequence[Path]) -> float:
    """Total seconds of active speech in ``sources``; blocking (decodes every file)."""
    return sum(speech_seconds(read_source(path, COUNTING_RATE)) for path in sources)
