"""Reading a cluster's state for the operator (blocking: run off the event loop)."""

from __future__ import annotations

import contextlib
from typing import Any

import ray
from ray import serve

from engine.remote.app import APP_NAME, DEPLOYMENT_NAME, connect
from engine.remote.placement import LOCAL
from engine.remote.registry import NAMESPACE as REGISTRY_NAMESPACE
from engine.remote.registry import REGISTRY_NAME
from engine.remote.report import ReplicaInfo, WorkersReport

REPORT_MAX_AGE_S = 10.0
"""A replica not heard from for this long is taken for gone."""


def replica_info(report: dict[str, Any]) -> ReplicaInfo:
    return ReplicaInfo(
        replica=str(report["replica"]),
        node=str(report["node"])[:12],
        device=str(report["device"]),
        gpus=tuple(report["gpus"]),
        ongoing=int(report["ongoing"]),
        queued_jobs=int(report["queued_jobs"]),
        loaded_models=tuple(report["loaded_models"]),
        voices=tuple(report["voices"]),
        age_s=float(report["age_s"]),
    )


def workers_report(address: str) -> WorkersReport:
    """The cluster at ``address`` (joined if this process is not in it yet); ``local`` is
    the cluster a running bot started on this machine."""
    connect("auto" if address == LOCAL else address)
    resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]  # Ray is untyped here
    alive: list[dict[str, Any]] = ray.nodes()  # type: ignore[no-untyped-call]  # Ray is untyped here
    nodes = len([node for node in alive if node.get("Alive")])
    application = serve.status().applications.get(APP_NAME)
    states: dict[str, int] = {}
    if application is not None:
        deployment = application.deployments.get(DEPLOYMENT_NAME)
        if deployment is not None:
            states = {_name(state): count for state, count in deployment.replica_states.items()}
    replicas: tuple[ReplicaInfo, ...] = ()
    registry: Any = None
    with contextlib.suppress(ValueError):  # no replica has started yet
        registry = ray.get_actor(REGISTRY_NAME, namespace=REGISTRY_NAMESPACE)
    if registry is not None:
        reports: list[dict[str, Any]] = ray.get(
            registry.reports.remote(REPORT_MAX_AGE_S), timeout=30
        )
        replicas = tuple(replica_info(report) for report in reports)
    return WorkersReport(
        address=address,
        nodes=nodes,
        cpus=float(resources.get("CPU", 0.0)),
        gpus=float(resources.get("GPU", 0.0)),
        application=_name(application.status) if application is not None else "not deployed",
        replica_states=states,
        replicas=replicas,
    )


def _name(state: Any) -> str:
    """``RUNNING`` for Serve's status enums (and plain strings)."""
    return str(getattr(state, "value", state))
