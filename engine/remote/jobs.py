"""Long jobs on replicas (covers, training): streamed progress, the result's files written
on the caller's side, and one more try when the replica doing it is lost."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from engine.cover.result import CoverResult, StageProgress
from engine.files import atomic_write_bytes
from engine.remote.calls import stream
from engine.remote.errors import BlobMissingError, WorkerLostError
from engine.remote.messages import (
    CoverDone,
    CoverProgress,
    TrainingDone,
    TrainingFilePiece,
)
from engine.remote.publish import Publisher
from engine.remote.training import TrainingReceiver
from engine.training.progress import TrainedModel, TrainingProgress

log = logging.getLogger(__name__)
T = TypeVar("T")


async def retried_once(attempt: Callable[[], Awaitable[T]], publisher: Publisher, what: str) -> T:
    """``attempt()``, once more if its replica was lost (Serve routes the retry to a live
    replica, or one it started instead); a blob the cluster lost is sent again."""
    lost: WorkerLostError | None = None
    may_resend = True
    while True:
        try:
            return await attempt()
        except BlobMissingError:
            if not may_resend:
                raise
            may_resend = False
            publisher.forget()
        except WorkerLostError as error:
            if lost is not None:
                raise WorkerLostError(
                    f"the worker making {what} stopped twice, so it was given up"
                ) from error
            lost = error
            log.warning("the worker making %s was lost (%s); trying once more", what, error)


def events(response: Any, doing: str, silence_s: float) -> AsyncGenerator[Any, None]:
    """The job's events, with at most ``silence_s`` between two."""
    return stream(response, doing, first_timeout_s=silence_s, next_timeout_s=silence_s)


async def cover_result(
    response: Any,
    silence_s: float,
    output: Path | None,
    fallback: Path,
    progress: StageProgress | None,
) -> CoverResult:
    """Follow a cover on its replica; its file goes to ``output`` (suffix as made) or
    into ``fallback`` (a folder)."""
    items = events(response, "making a cover", silence_s)
    try:
        async for event in items:
            if isinstance(event, CoverProgress):
                if progress is not None:
                    progress(event.stage, event.fraction)
            elif isinstance(event, CoverDone):
                made = event.result.path
                target = output.with_suffix(made.suffix) if output else fallback / made.name
                await asyncio.to_thread(atomic_write_bytes, target, event.data)
                return dataclasses.replace(event.result, path=target)
    finally:
        await items.aclose()
    raise WorkerLostError("the worker making a cover ended without the cover")


async def trained_model(
    response: Any,
    silence_s: float,
    work_dir: Path,
    output_dir: Path,
    progress: Callable[[TrainingProgress], None] | None,
) -> TrainedModel:
    """Follow a training on its replica; its checkpoints are kept in ``work_dir``, the
    model and index go into ``output_dir``."""
    items = events(response, "training a model", silence_s)
    files = TrainingReceiver(work_dir, output_dir)
    try:
        async for event in items:
            if isinstance(event, TrainingProgress):
                if progress is not None:
                    progress(event)
            elif isinstance(event, TrainingFilePiece):
                await asyncio.to_thread(files.accept, event)
            elif isinstance(event, TrainingDone):
                return await asyncio.to_thread(files.finish, event.result)
    finally:
        await asyncio.to_thread(files.discard)
        await items.aclose()
    raise WorkerLostError("the worker training a model ended without the model")
