"""The DSP stages between separation and mixing: key change and vocal effects.

They need no model, so they run in a worker thread and never hold the device queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from engine.cover.effects import vocal_chain
from engine.cover.mix import shift_pitch
from engine.cover.stage import CoverJob, CoverStage, Lane, TrackTransform
from engine.separate.progress import Progress
from engine.separate.stems import Track


def _shift_inputs(job: CoverJob, stems: str) -> Mapping[str, object]:
    return {"stems": stems, "semitones": job.params.semitones}


async def _shift(
    job: CoverJob, instrumental: Track, inputs: Mapping[str, object], _progress: Progress
) -> tuple[Track, dict[str, Any]]:
    shifted = await asyncio.to_thread(shift_pitch, instrumental, job.params.semitones)
    return shifted, dict(inputs)


def _no_key_change(job: CoverJob) -> bool:
    return job.params.semitones == 0


def _effects_inputs(job: CoverJob, vocals: str) -> Mapping[str, object]:
    return {"vocals": vocals, **job.params.effects_settings()}


async def _effects(
    job: CoverJob, vocals: Track, inputs: Mapping[str, object], _progress: Progress
) -> tuple[Track, dict[str, Any]]:
    params = job.params
    processed = await asyncio.to_thread(
        vocal_chain,
        vocals.samples[0],
        vocals.sample_rate,
        high_pass_hz=params.high_pass_hz,
        compress_vocals=params.compress,
        wet=params.reverb,
    )
    return Track(processed, vocals.sample_rate), dict(inputs)


SHIFT = CoverStage(
    "shift",
    "Changing the key",
    0.05,
    TrackTransform(Lane.INSTRUMENTAL, "instrumental", _shift_inputs, _shift, _no_key_change),
)
EFFECTS = CoverStage(
    "effects",
    "Polishing the vocals",
    0.05,
    TrackTransform(Lane.VOCALS, "effects", _effects_inputs, _effects),
)
