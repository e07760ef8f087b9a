"""Calls to replicas with the failures of a cluster turned into the engine's errors, and
with bounded waits: a replica that dies or goes silent ends the request, never hangs it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError, RayTaskError

from engine.remote.errors import WorkerLostError

LOST = (ActorDiedError, ActorUnavailableError, RayActorError)


def translated(error: BaseException, doing: str) -> BaseException:
    """The engine's own error for a failure seen through Ray."""
    if isinstance(error, RayTaskError) and isinstance(error.cause, Exception):
        return translated(error.cause, doing)  # the replica's error, as it was raised there
    if isinstance(error, LOST):
        return WorkerLostError(f"the worker {doing} stopped ({type(error).__name__})")
    return error


async def call(response: Any, doing: str, timeout_s: float) -> Any:
    """The result of a unary Serve call (a ``DeploymentResponse``)."""
    try:
        return await asyncio.wait_for(response, timeout_s)
    except TimeoutError:
        response.cancel()
        raise WorkerLostError(f"the worker {doing} did not answer within {timeout_s:g} s") from None
    except Exception as error:
        raise translated(error, doing) from error


async def stream(
    response: Any, doing: str, *, first_timeout_s: float, next_timeout_s: float
) -> AsyncGenerator[Any, None]:
    """The items of a streamed Serve call (a ``DeploymentResponseGenerator``); closing this
    generator cancels the request on the replica."""
    timeout = first_timeout_s
    try:
        while True:
            try:
                item = await asyncio.wait_for(response.__anext__(), timeout)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise WorkerLostError(f"the worker {doing} went silent for {timeout:g} s") from None
            except Exception as error:
                raise translated(error, doing) from error
            timeout = next_timeout_s
            yield item
    finally:
        response.cancel()
