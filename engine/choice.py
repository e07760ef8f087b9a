"""Which engine serves the API: the embedded one, or Ray Serve replicas (``EngineKind``)."""

from __future__ import annotations

import asyncio
import dataclasses

from engine.config import EngineConfig, EngineKind
from engine.engine import Engine
from engine.remote.errors import RayNotInstalledError
from engine.remote.placement import LOCAL, RayPlacement
from engine.remote.report import WorkersReport
from engine.surface import VoiceEngine


def choose_engine(
    config: EngineConfig,
    kind: EngineKind = EngineKind.EMBEDDED,
    *,
    max_queued: int = 32,
    idle_unload_s: float = 900.0,
    ray_address: str = LOCAL,
    placement: RayPlacement | None = None,
) -> VoiceEngine:
    """The engine of ``kind``; for Ray, each replica's embedded engine gets the same limits.

    Nothing connects or loads here: both engines start on first use.
    """
    if kind is EngineKind.EMBEDDED:
        return Engine(config, max_queued=max_queued, idle_unload_s=idle_unload_s)
    try:
        from engine.remote.client import RayEngine  # deferred: imports ray (the ray extra)
    except ImportError as error:
        if error.name is None or not error.name.startswith("ray"):
            raise
        raise RayNotInstalledError() from error
    placement = dataclasses.replace(
        placement or RayPlacement(),
        engine_options={"max_queued": max_queued, "idle_unload_s": idle_unload_s},
    )
    return RayEngine(config, address=ray_address, placement=placement)


async def describe_workers(address: str) -> WorkersReport:
    """The Ray cluster at ``address``: nodes, the Parrot application and its replicas.

    Raises :class:`RayNotInstalledError` without the ``ray`` extra, and
    :class:`RayUnavailableError` when the cluster cannot be reached.
    """
    try:
        from engine.remote.inventory import workers_report  # deferred: imports ray
    except ImportError as error:
        if error.name is None or not error.name.startswith("ray"):
            raise
        raise RayNotInstalledError() from error
    return await asyncio.to_thread(workers_report, address)
