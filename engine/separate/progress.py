"""Progress reports that cross from the worker thread to the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

Progress = Callable[[float], None]


def ignore_progress(_: float) -> None:
    return None


def from_worker(progress: Progress | None, loop: asyncio.AbstractEventLoop) -> Progress:
    """A callback safe to call on any thread that runs ``progress`` on ``loop``.

    Values are clamped to [0, 1]; a callback that raises is not the job's problem, so
    the loop's exception handler gets it instead of the job.
    """
    if progress is None:
        return ignore_progress
    callback = progress

    def report(fraction: float) -> None:
        value = min(1.0, max(0.0, float(fraction)))
        if not loop.is_closed():
            loop.call_soon_threadsafe(callback, value)

    return report


def scaled(progress: Progress, start: float, end: float) -> Progress:
    """Map a sub-task's 0..1 onto ``start..end`` of the parent's progress."""
    return lambda fraction: progress(start + (end - start) * fraction)
