"""Runs cover jobs: waits its turn, makes the cover on the engine, keeps the job row true.

The runner knows nothing of Discord: whoever submits a job passes a :class:`CoverReporter`
that tells people (a Discord message, a test). Every job ends in exactly one of
``done``, ``failed`` or ``cancelled``, except when the bot shuts down mid-job: then the
row stays ``running`` and :meth:`CoverRunner.recover` picks it up at the next start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.errors import UserFacingError, job_failure_text, report_quietly
from bot.exts.covers.queue import CoverQueue
from bot.exts.covers.request import KIND, requested_conversion, requested_cover, requested_method
from bot.exts.covers.singing_models import singing_model_paths
from bot.settings import Settings
from bot.store import Store
from bot.store.jobs import Job
from bot.store.models import JobState, VoiceStatus
from bot.voices.files import VoiceLibrary
from engine.api import SingingParams, VoiceEngine

log = logging.getLogger(__name__)

JOBS_FOLDER = "jobs"
"""Under the data directory: the songs of unfinished jobs (removed when a job ends)."""
VOICE_DELETED = "Its voice was deleted, so this cover was stopped."


@dataclass(frozen=True, slots=True)
class CoverUpdate:
    """Where a job stands, as people see it."""

    stage: str | None
    """None while waiting for its turn."""
    fraction: float
    position: int | None
    """0 while running, 1.. while waiting."""


class CoverReporter(Protocol):
    async def progress(self, job: Job, update: CoverUpdate) -> None: ...

    async def finished(self, job: Job, result: Any) -> None:
        """``result`` is the engine's ``CoverResult``; the file is at ``result.path``."""

    async def failed(self, job: Job, message: str) -> None: ...

    async def cancelled(self, job: Job) -> None: ...


ReporterFactory = Callable[[Job], CoverReporter]


class CoverRunner:
    """One per bot, built in ``ParrotBot.setup_hook`` and closed by ``ParrotBot.close``."""

    def __init__(
        self,
        store: Store,
        library: VoiceLibrary,
        engine: VoiceEngine,
        settings: Settings,
        *,
        progress_interval: float = 2.0,
    ) -> None:
        self.store = store
        self.library = library
        self.engine = engine
        self.settings = settings
        self.progress_interval = progress_interval
        self.queue = CoverQueue(
            concurrent=settings.concurrent_covers, max_waiting=settings.max_cover_queue
        )
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._voices: dict[str, str | None] = {}
        """The voice of each job in this process, by job id (rows lose it when it goes)."""
        self._cancelled_by_people: set[str] = set()
        self._reasons: dict[str, str] = {}
        """Why a job was stopped, when its requester should be told more than "cancelled"."""
        self._ending: set[str] = set()
        """Jobs whose outcome is decided and being written: a cancel waits, not interrupts."""
        self._closed = False

    @property
    def jobs_dir(self) -> Path:
        return self.settings.data_dir / JOBS_FOLDER

    # submitting and cancelling ------------------------------------------------------------
    def submit(self, job: Job, reporter: CoverReporter) -> asyncio.Task[None]:
        task = asyncio.create_task(self._run(job, reporter), name=f"cover {job.id}")
        self._tasks[job.id] = task
        self._voices[job.id] = job.voice_id
        task.add_done_callback(lambda _: self._forget(job.id))
        return task

    def _forget(self, job_id: str) -> None:
        self._tasks.pop(job_id, None)
        self._voices.pop(job_id, None)
        self._ending.discard(job_id)
        self._cancelled_by_people.discard(job_id)
        self._reasons.pop(job_id, None)

    def running(self, job_id: str) -> bool:
        return job_id in self._tasks

    async def cancel(self, job_id: str, *, reason: str | None = None) -> bool:
        """Stop a job (waiting or running); False when it is not in this process.

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
            self._cancelled_by_people.add(job_id)
            if reason is not None:
                self._reasons[job_id] = reason
            task.cancel()
        return task

    async def cancel_voice(self, voice_id: str) -> int:
        """Stop every job of a voice being deleted, waiting or running, telling each
        requester why; returns how many. Registered with the voice library, so it runs
        before the voice's files go (:meth:`VoiceLibrary.on_removal`).

        All are stopped at once: a waiting job must not take the turn its running sibling
        gives up."""
        jobs = [job_id for job_id, voice in self._voices.items() if voice == voice_id]
        tasks = [task for job_id in jobs if (task := self._stop(job_id, VOICE_DELETED))]
        await asyncio.gather(*tasks, return_exceptions=True)
        if jobs:
            log.info("stopped %d cover(s) of deleted voice %s", len(jobs), voice_id)
        return len(jobs)

    async def close(self) -> None:
        """Stop every job without ending it: the rows stay unfinished for :meth:`recover`."""
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def prune_cache(self) -> None:
        limit = int(self.settings.cover_cache_gb * 1024**3)
        removed = await self.engine.prune_cover_cache(limit)
        if removed:
            log.info("cover cache over %.1f GB: dropped %d stage(s)", limit / 1024**3, removed)

    # after a restart ------------------------------------------------------------------------
    async def recover(self, reporter_for: ReporterFactory) -> tuple[int, int]:
        """Resume each unfinished job whose song and voice are still there; fail the rest
        with a reason. Then delete songs that no unfinished job needs. Returns counts.

        Stops early once the runner is closed: the jobs left stay for the next start."""
        resumed = failed = 0
        for job in await self.store.jobs.unfinished(KIND):
            if self._closed:
                return resumed, failed
            reporter = reporter_for(job)
            problem = await self._why_not_resumable(job)
            if problem is None:
                self.submit(job, reporter)
                resumed += 1
                continue
            await self.store.jobs.finish(job.id, JobState.FAILED, error=problem)
            await self._remove_song(job)
            await report_quietly(reporter.failed(job, problem), "cover")
            failed += 1
        await asyncio.to_thread(self._sweep_songs, await self._needed_songs())
        await self.prune_cache()
        return resumed, failed

    async def _why_not_resumable(self, job: Job) -> str | None:
        name = job.params.get("song_name", "the song")
        if not job.input_path or not self.library.path(job.input_path).is_file():
            return f"Parrot restarted and the upload of {name} is gone; please send it again."
        voice = await self.store.voices.get(job.voice_id) if job.voice_id else None
        if voice is None or voice.status is not VoiceStatus.READY:
            return "The voice of this cover was deleted or retired while Parrot restarted."
        return None

    async def _needed_songs(self) -> set[Path]:
        jobs = await self.store.jobs.unfinished(KIND)
        return {self.library.path(job.input_path) for job in jobs if job.input_path}

    def _sweep_songs(self, needed: set[Path]) -> None:
        if not self.jobs_dir.is_dir():
            return
        for path in self.jobs_dir.iterdir():
            if path.is_file() and path.resolve() not in needed:
                path.unlink(missing_ok=True)

    async def _remove_song(self, job: Job) -> None:
        if job.input_path:
            await asyncio.to_thread(self.library.path(job.input_path).unlink, True)

    # one job --------------------------------------------------------------------------------
    async def _run(self, job: Job, reporter: CoverReporter) -> None:
        state = _State()
        ticker = asyncio.create_task(self._tick(job, reporter, state))
        ending = True
        try:
            async with self.queue.turn(job.id):
                state.started = True
                result = await self._make(job, state)
            self._ending.add(job.id)
            ticker.cancel()
            await self._record(job, result)
            await self._remove_song(job)
            await report_quietly(reporter.finished(job, result), "cover")
            await self.prune_cache()
        except asyncio.CancelledError:
            self._ending.add(job.id)
            ticker.cancel()
            if job.id not in self._cancelled_by_people:
                ending = False  # shutting down: recover() resumes it at the next start
                raise
            self._cancelled_by_people.discard(job.id)
            reason = self._reasons.pop(job.id, None)
            await self.store.jobs.finish(job.id, JobState.CANCELLED, error=reason)
            await self._remove_song(job)
            if reason is None:
                await report_quietly(reporter.cancelled(job), "cover")
            else:  # not their doing: say what happened, where they follow the job
                await report_quietly(reporter.failed(job, reason), "cover")
        except Exception as error:
            self._ending.add(job.id)
            ticker.cancel()
            message = job_failure_text("cover", job.id, error)
            await self.store.jobs.finish(job.id, JobState.FAILED, error=message)
            await self._remove_song(job)
            await report_quietly(reporter.failed(job, message), "cover")
        finally:
            ticker.cancel()
            if ending:  # each ending above removes it first; this covers one that raised early
                await self._remove_song(job)

    async def _make(self, job: Job, state: _State) -> Any:
        voice = await self.store.voices.get(job.voice_id) if job.voice_id else None
        if voice is None or voice.status is not VoiceStatus.READY:
            raise UserFacingError("The voice of this cover was deleted before its turn came.")
        assert job.input_path is not None
        output = self.settings.covers_dir / f"{job.id}.ogg"
        await asyncio.to_thread(output.parent.mkdir, parents=True, exist_ok=True)
        return await self.engine.cover(
            self.library.path(job.input_path),
            self.engine.profile(self.library.folder(voice.id)),
            singing_model=singing_model_paths(self.library, voice),
            method=requested_method(job.params),
            params=requested_cover(job.params),
            conversion=requested_conversion(job.params),
            singing=SingingParams(decoder_steps=self.settings.singing_decoder_steps, seed=0),
            output=output,
            progress=state.on_progress,
        )

    async def _record(self, job: Job, result: Any) -> None:
        relative = self.library.relative(result.path)
        await self.store.jobs.finish(job.id, JobState.DONE, output_path=relative)
        await self.store.generations.record(
            kind=KIND,
            user_id=job.user_id,
            guild_id=job.guild_id,
            voice_id=job.voice_id,
            input_seconds=result.duration_s,
            audio_seconds=result.duration_s,
            elapsed_seconds=result.timings.get("total"),
            method=result.method,
            output_path=relative,
        )

    async def _tick(self, job: Job, reporter: CoverReporter, state: _State) -> None:
        """Tell people (and the row) where the job stands, at most every interval."""
        shown: CoverUpdate | None = None
        while True:
            update = CoverUpdate(
                state.stage if state.started else None,
                round(state.fraction, 2),
                self.queue.position(job.id),
            )
            if update != shown:
                shown = update
                if update.stage is not None:
                    await self.store.jobs.advance(job.id, update.stage, update.fraction)
                await report_quietly(reporter.progress(job, update), "cover")
            await asyncio.sleep(self.progress_interval)


@dataclass(slots=True)
class _State:
    started: bool = False
    stage: str | None = None
    fraction: float = 0.0

    def on_progress(self, stage: str, fraction: float) -> None:
        self.stage, self.fraction = stage, fraction
