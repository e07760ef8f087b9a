"""Preparation off the device queue: each model call is its own short executor job.

``prepare_training_set`` is blocking and would hold the executor for the whole
preparation (decoding, slicing and writing included) if it ran as one job. Instead it
runs on a plain thread with stand-ins for the content encoder and the pitch extractor
that send every call to the executor's worker at training priority and wait for it, so
speech gets the device between any two pieces and the models are still touched by the
worker thread alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import torch

from engine.convert.features import ContentFeatures
from engine.convert.info import RvcVersion
from engine.convert.params import PitchMethod
from engine.convert.pitch.base import PitchExtractor
from engine.executor import CancelToken, GpuExecutor, JobCancelledError, Priority

T = TypeVar("T")


class WorkerCalls:
    """Runs callables on the executor's worker from another thread, one job each."""

    def __init__(self, executor: GpuExecutor, label: str) -> None:
        self.executor = executor
        self.label = label
        self.stopped = threading.Event()

    def check(self) -> None:
        """The ``should_stop`` of the preparation: raises once the job is cancelled."""
        if self.stopped.is_set():
            raise JobCancelledError

    def call(self, work: Callable[[], T]) -> T:
        self.check()

        def job(token: CancelToken) -> T:
            token.raise_if_cancelled()
            return work()

        future, _ = self.executor.submit(job, priority=Priority.TRAINING, label=self.label)
        return future.result()


class WorkerContentFeatures(ContentFeatures):
    """The loaded content encoder's face, each ``extract`` run by the worker (CPU result)."""

    def __init__(self, inner: ContentFeatures, calls: WorkerCalls) -> None:
        super().__init__(
            inner.model,
            inner.device,
            normalize=inner.normalize,
            has_projection=inner.has_projection,
        )
        self._inner = inner
        self._calls = calls

    def extract(self, audio_16k: np.ndarray, version: RvcVersion) -> torch.Tensor:
        return self._calls.call(lambda: self._inner.extract(audio_16k, version).cpu())


class WorkerPitch:
    """A pitch extractor whose every ``extract`` is run by the worker."""

    def __init__(self, inner: PitchExtractor, calls: WorkerCalls) -> None:
        self.method: PitchMethod = inner.method
        self._inner = inner
        self._calls = calls

    def extract(self, audio_16k: np.ndarray, frames: int) -> np.ndarray:
        return self._calls.call(lambda: self._inner.extract(audio_16k, frames))


async def run_on_thread(calls: WorkerCalls, work: Callable[[], T]) -> T:
    """``work()`` on a thread; a cancel stops it at its next check and waits for that,
    so that no preparation is still writing when the caller goes on (or starts again)."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().run_in_executor(None, work)
    try:
        result: T = await asyncio.shield(future)
    except asyncio.CancelledError:
        calls.stopped.set()
        with contextlib.suppress(BaseException):
            await future
        raise
    return result
