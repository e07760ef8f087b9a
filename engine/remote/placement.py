"""Where Ray replicas run and how many there are (plain values: no Ray import)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LOCAL = "local"
"""``PARROT_RAY_ADDRESS=local``: start a one-machine cluster inside this process."""


@dataclass(frozen=True, slots=True)
class RayPlacement:
    """Where replicas run and how many there are."""

    gpus_per_replica: float = 0.0
    cpus_per_replica: float = 1.0
    min_replicas: int = 1
    max_replicas: int = 1
    max_ongoing_requests: int = 64
    """Requests one replica takes at once (speech batches, enrolments, covers together)."""
    target_ongoing_requests: float = 8.0
    """Autoscaling adds replicas when the average load per replica goes above this."""
    engine_options: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of each replica's :class:`Engine` (``max_queued``, ...)."""
    runtime_env: dict[str, Any] = field(default_factory=dict)
    """Ray's runtime environment of each replica (environment variables, set-up hook)."""
