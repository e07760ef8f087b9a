"""What a cover stage is, as data: its name, what a person reads, its share of the bar,
and for the stages that transform one track (vocals or instrumental) between separation
and mixing, the inputs of its cache key and its computation.

The pipeline (:mod:`engine.cover.pipeline`) loops over :data:`engine.cover.stages.COVER_STAGES`;
a new stage is a module that declares one :class:`CoverStage` plus its line in that list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine.cover.convert import VocalConverter
from engine.cover.params import CoverParams
from engine.executor import GpuExecutor, Priority
from engine.separate.progress import Progress
from engine.separate.stems import Track


class Lane(StrEnum):
    """The two tracks a song is split into; each transform stage works on one."""

    VOCALS = "vocals"
    INSTRUMENTAL = "instrumental"


@dataclass(frozen=True, slots=True)
class CoverJob:
    """One cover request as the stages see it: what was asked and where to run model work."""

    params: CoverParams
    converter: VocalConverter
    executor: GpuExecutor
    priority: Priority
    convert_piece_seconds: float


KeyInputs = Callable[[CoverJob, str], Mapping[str, object]]
"""``(job, key of the input track)`` → everything that changes the stage's output."""
Compute = Callable[
    [CoverJob, Track, Mapping[str, object], Progress], Awaitable[tuple[Track, dict[str, Any]]]
]
"""``(job, input track, key inputs, progress)`` → the output track and its cache metadata.
Progress is reported on the event loop; blocking work goes to a thread or the executor."""


def never(_job: CoverJob) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class TrackTransform:
    """A cached step on one lane: its result is stored under ``cache``, keyed by
    ``cache_key(stage=cache, **key_inputs(job, input_key))``."""

    lane: Lane
    cache: str
    """The cache folder and the key's ``stage`` part (unchanged names keep old caches valid)."""
    key_inputs: KeyInputs
    compute: Compute
    passthrough: Callable[[CoverJob], bool] = never
    """When true the input goes on unchanged (no cache entry), e.g. no key change."""


@dataclass(frozen=True, slots=True)
class CoverStage:
    name: str
    """What progress callbacks and ``CoverResult.timings`` call the stage."""
    label: str
    """What a person reads in the progress message."""
    weight: float
    """Its rough share of a cover's time, to turn stage progress into one percentage."""
    transform: TrackTransform | None = None
    """Set for the stages between separation and mixing; the others are fixed steps."""
