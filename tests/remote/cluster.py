"""A local Ray cluster for the tests: 2 CPUs, no GPU, the workers set up like the pytest
process (the shrunk random T3, offline hub, this checkout importable)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.api import EngineConfig, RayPlacement

ROOT = Path(__file__).resolve().parents[2]
OBJECT_STORE_BYTES = 300 * 1024 * 1024


RUNTIME_ENV = {
    "worker_process_setup_hook": "tests.remote.hooks.set_up_worker",
    "env_vars": {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"},
}


@contextlib.contextmanager
def local_cluster(config: EngineConfig, cpus_per_replica: float = 1.0) -> Iterator[None]:
    """Ray started in this process with Parrot's application deployed on it: engines built
    from settings afterwards connect to it as they would to any running cluster."""
    import ray  # deferred: the ray extra
    from ray import serve

    from engine.remote.app import deploy
    from engine.remote.registry import NAMESPACE

    ray.init(
        num_cpus=2,
        num_gpus=0,
        include_dashboard=False,
        namespace=NAMESPACE,
        object_store_memory=OBJECT_STORE_BYTES,
        log_to_driver=False,
        runtime_env=RUNTIME_ENV,
    )
    try:
        deploy(config, RayPlacement(cpus_per_replica=cpus_per_replica, runtime_env=RUNTIME_ENV))
        yield
    finally:
        serve.shutdown()
        ray.shutdown()


async def kill_replica(engine: Any, spared: set[str]) -> str:
    """Kill the live replica (as a crash would) and return its actor name; ``spared`` holds
    the names killed before, whose stale reports may linger a few seconds."""
    import ray  # deferred: the ray extra

    for _ in range(100):
        reports = [r for r in await engine.replica_reports() if r["actor"] not in spared]
        if reports:
            name = str(reports[0]["actor"])
            ray.kill(ray.get_actor(name, namespace="serve"), no_restart=True)
            spared.add(name)
            return name
        await asyncio.sleep(0.2)
    raise TimeoutError("no live replica reported itself")
