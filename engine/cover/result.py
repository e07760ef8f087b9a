"""What a finished cover reports back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.audio import AudioFormat

StageProgress = Callable[[str, float], None]
"""``(stage, fraction)``, called on the event loop; the stages are listed in
:data:`engine.cover.stages.COVER_STAGES`."""


@dataclass(frozen=True, slots=True)
class CoverResult:
    path: Path
    duration_s: float
    method: str
    """The vocal conversion used, e.g. ``"zero-shot"``."""
    format: AudioFormat
    bitrate_kbps: int
    size_bytes: int
    semitones: int
    """The key change asked for (vocals and instrumental)."""
    octaves: int
    """Whole octaves the melody was moved to suit the voice (on top of ``semitones``)."""
    timings: dict[str, float] = field(default_factory=dict)
    """Wall seconds per stage (by stage name) and ``total``."""
    cache_hits: tuple[str, ...] = ()
    """Stages served from the cache; ``("cover",)`` when the whole file was."""
    notes: tuple[str, ...] = ()
    """Things worth telling the person, e.g. a lowered bitrate."""
