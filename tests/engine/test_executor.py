"""The GPU executor: ordering, bounds, cancellation, model lifetimes."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from engine.executor import (
    CancelToken,
    EngineBusyError,
    GpuExecutor,
    JobCancelledError,
    Priority,
)


@pytest.fixture
def executor() -> Iterator[GpuExecutor]:
    worker = GpuExecutor("cpu", max_queued=4, idle_unload_s=3600)
    yield worker
    worker.shutdown()


def blocker(started: threading.Event, release: threading.Event):
    def job(_: CancelToken) -> str:
        started.set()
        release.wait(10)
        return "blocker"

    return job


async def wait_event(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, 10)


async def test_higher_priority_runs_first(executor: GpuExecutor) -> None:
    started, release = threading.Event(), threading.Event()
    order: list[str] = []
    first = asyncio.ensure_future(executor.run(blocker(started, release), priority=Priority.COVER))
    await wait_event(started)

    def record(name: str):
        return lambda _: order.append(name)

    jobs = [
        asyncio.ensure_future(executor.run(record("cover"), priority=Priority.COVER)),
        asyncio.ensure_future(executor.run(record("enrol"), priority=Priority.ENROLMENT)),
        asyncio.ensure_future(executor.run(record("speech-1"), priority=Priority.SPEECH)),
        asyncio.ensure_future(executor.run(record("speech-2"), priority=Priority.SPEECH)),
    ]
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.gather(first, *jobs)
    assert order == ["speech-1", "speech-2", "enrol", "cover"]


async def test_a_job_stepping_aside_goes_right_behind_the_first_waiting_one(
    executor: GpuExecutor,
) -> None:
    started, release = threading.Event(), threading.Event()
    order: list[str] = []
    first = asyncio.ensure_future(executor.run(blocker(started, release), priority=Priority.SPEECH))
    await wait_event(started)

    def record(name: str):
        return lambda _: order.append(name)

    covers = [
        asyncio.ensure_future(executor.run(record(name), priority=Priority.COVER))
        for name in ("cover-1", "cover-2")
    ]
    await asyncio.sleep(0.05)
    assert executor.waiting_behind(Priority.SPEECH) is Priority.COVER
    assert executor.waiting_behind(Priority.COVER) is None

    def slow_speech(_: CancelToken) -> None:
        time.sleep(0.3)
        order.append("speech")

    future, _ = executor.submit(
        slow_speech, priority=Priority.SPEECH, label="speech", behind=Priority.COVER
    )
    alone, _ = executor.submit(  # nothing waits at that priority: its own place
        record("speech-2"), priority=Priority.SPEECH, behind=Priority.TRAINING
    )
    release.set()
    await asyncio.gather(first, *covers, asyncio.wrap_future(future), asyncio.wrap_future(alone))
    assert order == ["speech-2", "cover-1", "speech", "cover-2"]
    # its time counts as speech's, not as the covers' it queued among
    assert executor.longest_job[Priority.COVER] < 0.2 <= executor.longest_job[Priority.SPEECH]


async def test_full_queue_answers_busy_at_once(executor: GpuExecutor) -> None:
    started, release = threading.Event(), threading.Event()
    running = asyncio.ensure_future(
        executor.run(blocker(started, release), priority=Priority.COVER)
    )
    await wait_event(started)
    queued = [executor.submit(lambda _: None, priority=Priority.SPEECH) for _ in range(4)]
    with pytest.raises(EngineBusyError, match="busy"):
        executor.submit(lambda _: None, priority=Priority.SPEECH)
    # a job stepping aside is work already accepted: a full queue takes it
    queued.append(executor.submit(lambda _: None, priority=Priority.SPEECH, behind=Priority.COVER))
    release.set()
    await running
    for future, _ in queued:
        await asyncio.wrap_future(future)


async def test_cancelling_a_queued_job_means_it_never_runs(executor: GpuExecutor) -> None:
    started, release = threading.Event(), threading.Event()
    running = asyncio.ensure_future(
        executor.run(blocker(started, release), priority=Priority.COVER)
    )
    await wait_event(started)
    ran = threading.Event()
    waiting = asyncio.ensure_future(executor.run(lambda _: ran.set(), priority=Priority.SPEECH))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting  # the cancellation has reached the executor before the worker is free
    release.set()
    await running
    await executor.run(lambda _: None, priority=Priority.COVER)  # the queue has drained
    assert not ran.is_set()


async def test_cancelling_a_running_job_stops_it_at_its_next_check(
    executor: GpuExecutor,
) -> None:
    started, stopped = threading.Event(), threading.Event()

    def long_job(token: CancelToken) -> None:
        started.set()
        try:
            for _ in range(1000):
                token.raise_if_cancelled()
                time.sleep(0.01)
        finally:
            stopped.set()

    task = asyncio.ensure_future(executor.run(long_job, priority=Priority.COVER))
    await wait_event(started)
    task.cancel()
    await wait_event(stopped)
    assert executor.position(CancelToken()) is None


async def test_errors_reach_the_caller(executor: GpuExecutor) -> None:
    def broken(_: CancelToken) -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        await executor.run(broken, priority=Priority.SPEECH)
    assert await executor.run(lambda _: 42, priority=Priority.SPEECH) == 42


async def test_jobs_run_on_one_worker_thread(executor: GpuExecutor) -> None:
    names = await asyncio.gather(
        *[
            executor.run(lambda _: threading.current_thread().name, priority=Priority.SPEECH)
            for _ in range(4)
        ]
    )
    assert set(names) == {"parrot-gpu-cpu"}


async def test_models_load_lazily_and_unload_when_idle() -> None:
    worker = GpuExecutor("cpu", idle_unload_s=0.2)
    events: list[str] = []
    slot = worker.slot(
        "model", lambda: events.append("load") or "weights", lambda _: events.append("unload")
    )
    try:
        assert not slot.loaded and events == []
        assert await worker.run(lambda _: slot.get(), priority=Priority.SPEECH) == "weights"
        assert await worker.run(lambda _: slot.get(), priority=Priority.SPEECH) == "weights"
        assert events == ["load"]
        assert worker.loaded_models == ["model"]
        for _ in range(100):
            if not slot.loaded:
                break
            await asyncio.sleep(0.05)
        assert events == ["load", "unload"]
        await worker.run(lambda _: slot.get(), priority=Priority.SPEECH)
        assert events == ["load", "unload", "load"]
        assert await worker.unload_models() == ["model"]
    finally:
        worker.shutdown()


async def test_queue_position_is_reported(executor: GpuExecutor) -> None:
    started, release = threading.Event(), threading.Event()
    running_future, running_token = executor.submit(
        blocker(started, release), priority=Priority.COVER
    )
    await wait_event(started)
    _, cover = executor.submit(lambda _: None, priority=Priority.COVER)
    _, speech = executor.submit(lambda _: None, priority=Priority.SPEECH)
    assert executor.position(running_token) == 0
    assert executor.position(speech) == 1
    assert executor.position(cover) == 2
    release.set()
    await asyncio.wrap_future(running_future)


async def test_shutdown_cancels_what_is_queued() -> None:
    worker = GpuExecutor("cpu")
    started, release = threading.Event(), threading.Event()
    running, _ = worker.submit(blocker(started, release), priority=Priority.COVER)
    await wait_event(started)
    queued, _ = worker.submit(lambda _: None, priority=Priority.SPEECH)
    threading.Timer(0.1, release.set).start()
    await asyncio.to_thread(worker.shutdown)
    assert queued.cancelled()
    assert running.result() == "blocker"
    with pytest.raises(RuntimeError, match="shutting down"):
        worker.submit(lambda _: None, priority=Priority.SPEECH)


async def test_cancelled_before_start_raises_job_cancelled(executor: GpuExecutor) -> None:
    started, release = threading.Event(), threading.Event()
    running = asyncio.ensure_future(
        executor.run(blocker(started, release), priority=Priority.COVER)
    )
    await wait_event(started)
    future, token = executor.submit(lambda _: "ran", priority=Priority.SPEECH)
    token.cancel()
    release.set()
    await running
    with pytest.raises(JobCancelledError):
        await asyncio.wrap_future(future)
