"""The GPU executor: one worker thread per device, priorities, cancellation, model lifetimes.

All model work runs on the worker thread, so models are never touched by two threads
and the event loop only awaits futures. Jobs are ordered by priority (live speech
first), then by arrival. The queue is bounded: when full, :meth:`GpuExecutor.submit`
raises :class:`EngineBusyError` at once instead of letting waits grow without limit.
Long work (a cover) is submitted in pieces, so speech gets the device between them.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, TypeVar

from engine.errors import ParrotError

log = logging.getLogger(__name__)
T = TypeVar("T")


class Priority(IntEnum):
    """Lower runs first."""

    SPEECH = 0
    ENROLMENT = 1
    COVER = 2
    TRAINING = 3


class EngineBusyError(ParrotError, RuntimeError):
    """The queue is full; the caller should tell the person to try again shortly."""

    def for_member(self) -> str:
        return "The voice engine is busy right now; please try again in a minute."


class JobCancelledError(ParrotError):
    """Raised inside a job when its caller went away; the job stops at its next check."""

    def for_member(self) -> str:
        return "That was cancelled."

    def for_operator(self) -> str:
        return str(self) or "cancelled"


class CancelToken:
    """Checked by running jobs at safe points (between chunks, stages, decoder steps)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise JobCancelledError


@dataclass(order=True)
class _Job:
    priority: int
    sequence: int
    behind: int
    """1 for a job stepping aside: it runs right after the job whose sequence it took."""
    function: Callable[[CancelToken], Any] = field(compare=False)
    future: Future[Any] = field(compare=False)
    token: CancelToken = field(compare=False)
    label: str = field(compare=False, default="")
    runs_as: int = field(compare=False, default=-1)
    """Its own priority (``priority`` is its place in the line, a lower one when it stepped
    aside)."""


class ModelSlot:
    """A lazily loaded model owned by the worker thread, unloaded after idling."""

    def __init__(self, name: str, load: Callable[[], Any], unload: Callable[[Any], None]) -> None:
        self.name = name
        self._load = load
        self._unload = unload
        self.value: Any = None
        self.last_used = 0.0

    @property
    def loaded(self) -> bool:
        return self.value is not None

    def get(self) -> Any:
        if self.value is None:
            started = time.perf_counter()
            self.value = self._load()
            log.info("loaded %s in %.1f s", self.name, time.perf_counter() - started)
        self.last_used = time.monotonic()
        return self.value

    def release(self) -> None:
        if self.value is not None:
            value, self.value = self.value, None
            self._unload(value)
            log.info("unloaded %s", self.name)


class GpuExecutor:
    """Runs jobs one at a time on a dedicated thread, highest priority first."""

    def __init__(
        self,
        device: str,
        *,
        max_queued: int = 32,
        idle_unload_s: float = 900.0,
        thread_setup: Callable[[], None] | None = None,
    ) -> None:
        self.device = device
        self.max_queued = max_queued
        self.idle_unload_s = idle_unload_s
        self._thread_setup = thread_setup
        self._heap: list[_Job] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._slots: dict[str, ModelSlot] = {}
        self._running: _Job | None = None
        self._stopping = False
        self.longest_job: dict[Priority, float] = {}
        """Seconds the longest job of each priority ran: speech waits at most one job."""
        self._thread = threading.Thread(target=self._work, name=f"parrot-gpu-{device}", daemon=True)
        self._thread.start()

    # models ------------------------------------------------------------------------------
    def slot(self, name: str, load: Callable[[], Any], unload: Callable[[Any], None]) -> ModelSlot:
        """Register (once) a model that jobs fetch with ``slot.get()`` on the worker."""
        with self._condition:
            if name not in self._slots:
                self._slots[name] = ModelSlot(name, load, unload)
            return self._slots[name]

    @property
    def loaded_models(self) -> list[str]:
        return [name for name, slot in self._slots.items() if slot.loaded]

    async def unload_models(self) -> list[str]:
        """Release every loaded model (on the worker thread, after queued speech)."""

        def release(_: CancelToken) -> list[str]:
            names = self.loaded_models
            for slot in self._slots.values():
                slot.release()
            return names

        return await self.run(release, priority=Priority.COVER, label="unload")

    # submitting ----------------------------------------------------------------------------
    @property
    def queued(self) -> int:
        with self._condition:
            return len(self._heap)

    @property
    def busy(self) -> bool:
        return self._running is not None

    def waiting_behind(self, priority: Priority) -> Priority | None:
        """The most urgent priority among the jobs waiting behind ``priority``, if any."""
        with self._condition:
            lower = [job.runs_as for job in self._heap if job.runs_as > priority]
        return Priority(min(lower)) if lower else None

    def submit(
        self,
        function: Callable[[CancelToken], T],
        *,
        priority: Priority,
        label: str = "",
        behind: Priority | None = None,
    ) -> tuple[Future[T], CancelToken]:
        """Queue ``function(token)``; returns its future and its cancel token.

        ``behind``: a long job of ``priority`` stepping aside once: it goes right after the
        first job waiting at that (lower) priority, ahead of the others (as ``priority``
        when none waits). It is work already accepted, so a full queue takes it too."""
        token = CancelToken()
        future: Future[T] = Future()
        with self._condition:
            if self._stopping:
                raise RuntimeError("the engine is shutting down")
            if len(self._heap) >= self.max_queued and behind is None:  # stepping aside: not new
                raise EngineBusyError(
                    f"the voice engine is busy ({len(self._heap)} jobs waiting); "
                    "try again in a minute"
                )
            ahead = [job for job in self._heap if behind is not None and job.runs_as == behind]
            if ahead:
                first = min(ahead)
                key = (first.priority, first.sequence, 1)
            else:
                key = (priority, next(self._sequence), 0)
            heapq.heappush(self._heap, _Job(*key, function, future, token, label, priority))
            self._condition.notify()
        return future, token

    async def run(
        self, function: Callable[[CancelToken], T], *, priority: Priority, label: str = ""
    ) -> T:
        """Submit and await. Cancelling the awaiting task cancels the job."""
        future, token = self.submit(function, priority=priority, label=label)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            token.cancel()
            future.cancel()  # removes it if still queued
            raise

    def position(self, token: CancelToken) -> int | None:
        """1-based place in the queue of the job with ``token``; 0 if running; None if gone."""
        with self._condition:
            if self._running is not None and self._running.token is token:
                return 0
            ordered = sorted(self._heap)
            for index, job in enumerate(ordered, start=1):
                if job.token is token:
                    return index
        return None

    # worker ------------------------------------------------------------------------------
    def _next_job(self) -> _Job | None:
        with self._condition:
            while not self._heap and not self._stopping:
                if not self._condition.wait(timeout=self._idle_wait()):
                    self._unload_idle()
            if self._stopping and not self._heap:
                return None
            job = heapq.heappop(self._heap)
            self._running = job
            return job

    def _idle_wait(self) -> float:
        loaded = [slot for slot in self._slots.values() if slot.loaded]
        if not loaded:
            return 3600.0
        oldest = min(slot.last_used for slot in loaded)
        return max(0.05, oldest + self.idle_unload_s - time.monotonic())

    def _unload_idle(self) -> None:
        now = time.monotonic()
        for slot in self._slots.values():
            if slot.loaded and now - slot.last_used >= self.idle_unload_s:
                slot.release()

    def _work(self) -> None:
        if self._thread_setup is not None:
            self._thread_setup()
        while True:
            job = self._next_job()
            if job is None:
                break
            try:
                if not job.future.set_running_or_notify_cancel():
                    continue  # cancelled while queued
                if job.token.cancelled:
                    job.future.set_exception(JobCancelledError())
                    continue
                started = time.perf_counter()
                try:
                    result = job.function(job.token)
                except BaseException as error:  # delivered to the awaiting caller
                    job.future.set_exception(error)
                else:
                    job.future.set_result(result)
                finally:
                    self._note_duration(job, time.perf_counter() - started)
            finally:
                with self._condition:
                    self._running = None
        for slot in self._slots.values():
            slot.release()

    def _note_duration(self, job: _Job, seconds: float) -> None:
        priority = Priority(job.runs_as)
        self.longest_job[priority] = max(self.longest_job.get(priority, 0.0), seconds)

    def shutdown(self, *, wait: bool = True) -> None:
        """Cancel queued jobs, let the running one finish, release models, stop the thread."""
        with self._condition:
            self._stopping = True
            pending, self._heap = self._heap, []
            if self._running is not None:
                self._running.token.cancel()
            self._condition.notify_all()
        for job in pending:
            job.token.cancel()
            job.future.cancel()
        if wait and self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=60)
