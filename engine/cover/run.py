"""Book-keeping of one cover request: progress per stage, timings, cache hits, notes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from engine.cover.result import StageProgress
from engine.separate.progress import Progress


@dataclass(slots=True)
class CoverRun:
    progress: StageProgress | None
    timings: dict[str, float] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def start(self, stage: str) -> float:
        self.report(stage)(0.0)
        return time.perf_counter()

    def report(self, stage: str) -> Progress:
        callback = self.progress
        if callback is None:
            return lambda _: None
        return lambda fraction: callback(stage, fraction)

    def done(self, stage: str, started: float, *, hit: bool = False) -> None:
        self.timings[stage] = round(time.perf_counter() - started, 3)
        if hit:
            self.hits.append(stage)
        self.report(stage)(1.0)
