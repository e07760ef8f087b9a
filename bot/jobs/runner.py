"""The lifecycle every long job shares (covers, trainings).

A job waits its turn in a :class:`JobQueue`, tells people where it stands while it waits and
works, may be stopped by a person or by what happens to its voice, and ends in exactly one
of ``done``, ``failed`` or ``cancelled`` on its row, except at shutdown: then the row stays
unfinished and the subclass's ``recover`` picks it up at the next start.

A runner knows nothing of Discord: whoever submits a job passes a reporter that tells
people (a Discord message, the CLI's progress bar, a test). Subclasses say what the work
is (:meth:`JobRunner._work`), what an update looks like and what is cleaned up after.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from bot.errors import job_failure_text, report_quietly
from bot.jobs.queue import JobQueue
from bot.settings import Settings
from bot.store import Store
from bot.store.jobs import Job
from bot.store.models import JobState
from bot.voices.files import VoiceLibrary
from engine.api import VoiceEngine

log = logging.getLogger(__name__)


class Update(Protocol):
    """What a job's progress looks like to the runner: compared to the last one shown, and
    its stage and fraction written to the row (None while waiting its turn)."""

    @property
    def stage(self) -> str | None: ...

    @property
    def fraction(self) -> float: ...

    def detail(self) -> dict[str, Any] | None:
        """More for the row (``parrot voices training-status``), or None."""


UpdateT = TypeVar("UpdateT", bound=Update)
UpdateT_contra = TypeVar("UpdateT_contra", contravariant=True)
ResultT = TypeVar("ResultT")
ResultT_contra = TypeVar("ResultT_contra", contravariant=True)


class JobReporter(Protocol[UpdateT_contra, ResultT_contra]):
    async def progress(self, job: Job, update: UpdateT_contra) -> None: ...

    async def finished(self, job: Job, result: ResultT_contra) -> None: ...

    async def failed(self, job: Job, message: str) -> None: ...

    async def cancelled(self, job: Job) -> None: ...


class JobWithdrawn(Exception):
    """Raised by ``_work`` when the job may no longer go on (its voice deleted, hidden or
    made private since it was asked for): it ends ``cancelled`` with this reason, as when
    the runner stopped it itself (:meth:`JobRunner.recheck_voice`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class WorkState:
    """What a job's own task knows of it; subclasses add what their engine reports."""

    started: bool = False
    """Its turn came."""


StateT = TypeVar("StateT", bound=WorkState)


class JobRunner(ABC, Generic[StateT, UpdateT, ResultT]):
    """One per bot (built in ``ParrotBot.setup_hook``, closed by ``ParrotBot.close``) or per
    CLI run."""

    kind: ClassVar[str]
    """The job rows' ``kind``, also the word in logs and failure messages."""
    voice_deleted: ClassVar[str]
    """What a requester reads when the job's voice is deleted under it."""

    def __init__(
        self,
        store: Store,
        library: VoiceLibrary,
        engine: VoiceEngine,
        settings: Settings,
        *,
        queue: JobQueue,
        progress_interval: float,
    ) -> None:
        self.store = store
        self.library = library
        self.engine = engine
        self.settings = settings
        self.queue = queue
        self.progress_interval = progress_interval
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._jobs: dict[str, Job] = {}
        """The jobs of this process by id (their rows lose the voice when it goes)."""
        self._stopped: dict[str, str | None] = {}
        """Jobs stopped by a person (None) or for a reason the requester is told: they end
        ``cancelled``. A job cancelled and not in here is being shut down."""
        self._ending: set[str] = set()
        """Jobs whose outcome is decided and being written: a cancel waits, not interrupts."""
        self._closed = False

    # what a subclass says ----------------------------------------------------------------
    @abstractmethod
    def _new_state(self, job: Job) -> StateT: ...

    @abstractmethod
    async def _work(self, job: Job, state: StateT) -> ResultT:
        """Do the job once its turn came. Call :meth:`_decided` once nothing should stop it
        any more (a model being kept); otherwise the base marks it when this returns."""

    @abstractmethod
    def _update(self, job: Job, state: StateT) -> UpdateT: ...

    async def _keep(self, job: Job, result: ResultT) -> None:
        """Write a finished job's result (its row ``done``); the default: :meth:`_work` did."""

    async def _clean(self, job: Job) -> None:
        """Remove what the job needed only while unfinished (idempotent)."""

    async def still_allowed(self, job: Job) -> str | None:
        """Why the job may no longer go on now that its voice's use changed (hidden, made
        private), or None; the default: it goes on (a training is its owner's own)."""
        return None

    # submitting and stopping ---------------------------------------------------------------
    def submit(self, job: Job, reporter: JobReporter[UpdateT, ResultT]) -> asyncio.Task[None]:
        task = asyncio.create_task(self._run(job, reporter), name=f"{self.kind} {job.id}")
        self._tasks[job.id] = task
        self._jobs[job.id] = job
        task.add_done_callback(lambda _: self._forget(job.id))
        return task

    def _forget(self, job_id: str) -> None:
        self._tasks.pop(job_id, None)
        self._jobs.pop(job_id, None)
        self._ending.discard(job_id)
        self._stopped.pop(job_id, None)

    def running(self, job_id: str) -> bool:
        return job_id in self._tasks

    def _decided(self, job_id: str) -> None:
        self._ending.add(job_id)

    async def cancel(self, job_id: str, *, reason: str | None = None) -> bool:
        """Stop a job (waiting or working); False when it is not in this process.

        With ``reason``, its requester reads why instead of a bare "cancelled"."""
        task = self._stop(job_id, reason)
        if task is None:
            return False
        await asyncio.gather(task, return_exceptions=True)
        return True

    def _stop(self, job_id: str, reason: str | None) -> asyncio.Task[None] | None:
        """Ask a job's task to stop; a job already ending is left to end as it was."""
        task = self._tasks.get(job_id)
        if task is not None and job_id not in self._ending:
            self._stopped[job_id] = reason
            task.cancel()
        return task

    async def _stop_all(self, reasons: dict[str, str]) -> int:
        """Stop these jobs at once (a waiting one must not take the turn its running sibling
        gives up) and wait for them to end; returns how many."""
        tasks = [task for job_id, why in reasons.items() if (task := self._stop(job_id, why))]
        await asyncio.gather(*tasks, return_exceptions=True)
        return len(tasks)

    async def cancel_voice(self, voice_id: str) -> int:
        """Stop every job of a voice being deleted, telling each requester why; returns how
        many. Registered with the voice library, so it runs before the voice's files go
        (:meth:`VoiceLibrary.on_removal`)."""
        jobs = [job_id for job_id, job in self._jobs.items() if job.voice_id == voice_id]
        stopped = await self._stop_all(dict.fromkeys(jobs, self.voice_deleted))
        if stopped:
            log.info("stopped %d %s job(s) of deleted voice %s", stopped, self.kind, voice_id)
        return stopped

    async def recheck_voice(self, voice_id: str) -> int:
        """Stop the jobs of a voice whose use changed (hidden, made private) that may no
        longer go on, each requester told why; returns how many."""
        reasons: dict[str, str] = {}
        for job_id, job in list(self._jobs.items()):
            if job.voice_id == voice_id and (why := await self.still_allowed(job)) is not None:
                reasons[job_id] = why
        stopped = await self._stop_all(reasons)
        if stopped:
            log.info("stopped %d %s job(s) of voice %s: not allowed", stopped, self.kind, voice_id)
        return stopped

    async def close(self) -> None:
        """Stop every job without ending it: the rows stay unfinished for ``recover``."""
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # one job --------------------------------------------------------------------------------
    async def _run(self, job: Job, reporter: JobReporter[UpdateT, ResultT]) -> None:
        state = self._new_state(job)
        ticker = asyncio.create_task(self._tick(job, reporter, state))
        shutting_down = False
        try:
            async with self.queue.turn(job.id):
                state.started = True
                result = await self._work(job, state)
            self._ending.add(job.id)
            ticker.cancel()
            await self._keep(job, result)
            await self._clean(job)
            await report_quietly(reporter.finished(job, result), self.kind)
        except asyncio.CancelledError:
            self._ending.add(job.id)
            ticker.cancel()
            if job.id not in self._stopped:
                shutting_down = True  # recover() takes it up at the next start
                raise
            await self._cancelled(job, reporter, self._stopped.pop(job.id))
        except JobWithdrawn as withdrawn:
            self._ending.add(job.id)
            ticker.cancel()
            await self._cancelled(job, reporter, withdrawn.reason)
        except Exception as error:
            self._ending.add(job.id)
            ticker.cancel()
            message = job_failure_text(self.kind, job.id, error)
            await self.store.jobs.finish(job.id, JobState.FAILED, error=message)
            await self._clean(job)
            await report_quietly(reporter.failed(job, message), self.kind)
        finally:
            ticker.cancel()
            if not shutting_down:  # each ending above cleans; this is for one that raised
                await self._clean(job)

    async def _cancelled(
        self, job: Job, reporter: JobReporter[UpdateT, ResultT], reason: str | None
    ) -> None:
        await self.store.jobs.finish(job.id, JobState.CANCELLED, error=reason)
        await self._clean(job)
        if reason is None:
            await report_quietly(reporter.cancelled(job), self.kind)
        else:  # not their doing: say what happened, where they follow the job
            await report_quietly(reporter.failed(job, reason), self.kind)

    async def _tick(self, job: Job, reporter: JobReporter[UpdateT, ResultT], state: StateT) -> None:
        """Tell people (and the row) where the job stands, at most every interval."""
        shown: UpdateT | None = None
        while True:
            update = self._update(job, state)
            if update != shown:
                shown = update
                if update.stage is not None:
                    await self.store.jobs.advance(
                        job.id, update.stage, update.fraction, update.detail()
                    )
                await report_quietly(reporter.progress(job, update), self.kind)
            await asyncio.sleep(self.progress_interval)
