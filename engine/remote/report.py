"""What ``parrot workers`` and ``parrot doctor`` show about a Ray cluster (plain values)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ReplicaInfo:
    replica: str
    node: str
    device: str
    gpus: tuple[str, ...]
    ongoing: int
    """Requests it is working on now (speech streams, enrolments, covers)."""
    queued_jobs: int
    loaded_models: tuple[str, ...]
    voices: tuple[str, ...]
    """Hashes of the conditionals it holds (see ``engine.remote.registry.content_hash``)."""
    age_s: float
    """Seconds since it last reported."""


@dataclass(frozen=True, slots=True)
class WorkersReport:
    address: str
    nodes: int
    cpus: float
    gpus: float
    application: str
    """The Parrot application's state: ``RUNNING``, ``DEPLOYING``, ... or ``not deployed``."""
    replica_states: dict[str, int] = field(default_factory=dict)
    replicas: tuple[ReplicaInfo, ...] = ()
