"""The line of long jobs: order, positions, room, and leaving it while waiting."""

from __future__ import annotations

import asyncio

import pytest

from bot.jobs.queue import JobQueue
from engine.executor import EngineBusyError


async def test_jobs_run_in_order_with_positions_people_can_read() -> None:
    queue = JobQueue(concurrent=1, max_waiting=2)
    order: list[str] = []
    release = asyncio.Event()

    async def job(name: str) -> None:
        async with queue.turn(name):
            order.append(name)
            await release.wait()

    tasks = [asyncio.create_task(job(name)) for name in ("a", "b", "c")]
    await asyncio.sleep(0.01)
    assert [queue.position(name) for name in ("a", "b", "c")] == [0, 1, 2]
    with pytest.raises(EngineBusyError):
        queue.check_room()

    tasks[1].cancel()  # b leaves the line while waiting: c moves up
    await asyncio.sleep(0.01)
    assert queue.position("b") is None and queue.position("c") == 1
    queue.check_room()

    release.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert order == ["a", "c"]
    assert queue.position("c") is None and queue.waiting == 0


async def test_two_at_a_time_when_configured() -> None:
    queue = JobQueue(concurrent=2)
    running = 0
    peak = 0

    async def job(name: str) -> None:
        nonlocal running, peak
        async with queue.turn(name):
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1

    await asyncio.gather(*(job(str(n)) for n in range(5)))
    assert peak == 2
