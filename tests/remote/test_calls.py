"""How failures seen through Ray become the engine's errors, without a cluster: a replica's
own error comes back as itself, a dead or silent replica as WorkerLostError, and a long job
gets one more try."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ray.exceptions import ActorDiedError, RayTaskError

from engine.api import NothingToSayError, WorkerLostError
from engine.remote.calls import stream, translated
from engine.remote.jobs import retried_once
from engine.remote.publish import Publisher


def test_a_replicas_own_error_comes_back_as_itself() -> None:
    cause = NothingToSayError("there is nothing to say in that text")
    wrapped = RayTaskError("speak", "Traceback (most recent call last): ...", cause)
    assert translated(wrapped, "speaking") is cause


def test_a_dead_replica_is_a_lost_worker() -> None:
    error = translated(ActorDiedError(), "speaking")
    assert isinstance(error, WorkerLostError)
    assert "stopped mid-way" in error.for_member()


class SilentAfterOne:
    """A streamed response that yields one item, then nothing (a hung replica)."""

    def __init__(self) -> None:
        self.items = ["first"]
        self.cancelled = False

    async def __anext__(self) -> Any:
        if self.items:
            return self.items.pop()
        await asyncio.sleep(3600)

    def cancel(self) -> None:
        self.cancelled = True


async def test_a_silent_stream_ends_with_a_lost_worker_and_is_cancelled() -> None:
    response = SilentAfterOne()
    received = []
    with pytest.raises(WorkerLostError, match="went silent"):
        async for item in stream(response, "speaking", first_timeout_s=5, next_timeout_s=0.05):
            received.append(item)
    assert received == ["first"]
    assert response.cancelled


async def test_a_job_is_tried_once_more_then_given_up() -> None:
    tries = []

    async def lost() -> str:
        tries.append(1)
        raise WorkerLostError("the worker making a cover stopped (ActorDiedError)")

    with pytest.raises(WorkerLostError, match="stopped twice"):
        await retried_once(lost, Publisher(registry=None), "this cover")
    assert len(tries) == 2

    outcomes: list[Any] = [WorkerLostError("lost"), "made"]

    async def once_lost() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome)

    assert await retried_once(once_lost, Publisher(registry=None), "this cover") == "made"
