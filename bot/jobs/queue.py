"""A first-come, first-served line of jobs (covers, trainings) with a few running at a time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from engine.api import EngineBusyError


class JobQueue:
    """Admits at most ``concurrent`` jobs at once; the others wait in order.

    Positions are what people see: 0 while running, 1 for the next to start, and so on.
    """

    def __init__(self, *, concurrent: int = 1, max_waiting: int = 8, noun: str = "jobs") -> None:
        self.concurrent = concurrent
        self.noun = noun
        """What the jobs are called in the busy message ("covers")."""
        self.max_waiting = max_waiting
        self._running: set[str] = set()
        self._waiting: list[str] = []
        self._changed = asyncio.Condition()

    def position(self, job_id: str) -> int | None:
        if job_id in self._running:
            return 0
        if job_id in self._waiting:
            return self._waiting.index(job_id) + 1
        return None

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def check_room(self) -> None:
        """Raise ``EngineBusyError`` when the line is full (before any work is accepted)."""
        if len(self._waiting) >= self.max_waiting and len(self._running) >= self.concurrent:
            raise EngineBusyError(f"{len(self._waiting)} {self.noun} are already waiting")

    @contextlib.asynccontextmanager
    async def turn(self, job_id: str) -> AsyncIterator[None]:
        """Wait for this job's turn, then hold a running place until the block ends."""
        self._waiting.append(job_id)
        try:
            async with self._changed:
                await self._changed.wait_for(
                    lambda: len(self._running) < self.concurrent and self._waiting[0] == job_id
                )
                self._waiting.remove(job_id)
                self._running.add(job_id)
        except BaseException:
            if job_id in self._waiting:
                self._waiting.remove(job_id)
                await self._notify()
            raise
        try:
            yield
        finally:
            self._running.discard(job_id)
            await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
