"""Every cover stage, in order: the one list the pipeline, the CLI and the bot's progress
message read. Register a new stage by adding its line here.

``read``, ``separate``, ``mix`` and ``encode`` are fixed steps of the pipeline; the stages
with a track transform run between separation and mixing, in this order.
"""

from __future__ import annotations

from engine.cover.conversion import CONVERT
from engine.cover.dsp_stages import EFFECTS, SHIFT
from engine.cover.stage import CoverStage

READ = CoverStage("read", "Reading the song", 0.02)
SEPARATE = CoverStage("separate", "Separating vocals and instruments", 0.35)
MIX = CoverStage("mix", "Mixing", 0.03)
ENCODE = CoverStage("encode", "Encoding", 0.05)

COVER_STAGES: tuple[CoverStage, ...] = (
    READ,
    SEPARATE,
    CONVERT,
    SHIFT,
    EFFECTS,
    MIX,
    ENCODE,
)

STAGES: tuple[str, ...] = tuple(stage.name for stage in COVER_STAGES)
"""The stage names, in order (progress callbacks and ``CoverResult.timings`` use them)."""
