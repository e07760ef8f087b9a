"""Connecting to a Ray cluster and putting Parrot's Serve application on it (blocking calls:
run them off the event loop)."""

from __future__ import annotations

from typing import Any

import ray
from ray import serve

from engine.config import EngineConfig
from engine.remote.errors import RayUnavailableError
from engine.remote.placement import LOCAL, RayPlacement
from engine.remote.registry import NAMESPACE
from engine.remote.worker import VoiceWorker

APP_NAME = "parrot"
DEPLOYMENT_NAME = "voice"


def connect(address: str, runtime_env: dict[str, Any] | None = None) -> bool:
    """Join the cluster at ``address`` (or start a local one); True when this call started
    Ray in this process. Ray already initialised here is used as it is."""
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {
        "namespace": NAMESPACE,
        "include_dashboard": False,
        "log_to_driver": False,
    }
    if runtime_env:
        options["runtime_env"] = runtime_env
    try:
        if address == LOCAL:
            ray.init(**options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, TimeoutError) as error:
        raise RayUnavailableError(f"cannot reach the Ray cluster at {address}: {error}") from error
    return True


def application(config: EngineConfig, placement: RayPlacement) -> Any:
    """The bound Serve application: one deployment of :class:`VoiceWorker`."""
    options: dict[str, Any] = {
        "name": DEPLOYMENT_NAME,
        "ray_actor_options": {
            "num_gpus": placement.gpus_per_replica,
            "num_cpus": placement.cpus_per_replica,
            **({"runtime_env": placement.runtime_env} if placement.runtime_env else {}),
        },
        "max_ongoing_requests": placement.max_ongoing_requests,
        "graceful_shutdown_timeout_s": 5,
        "health_check_period_s": 5,
    }
    if placement.min_replicas == placement.max_replicas:
        options["num_replicas"] = placement.min_replicas
    else:
        options["autoscaling_config"] = {
            "min_replicas": placement.min_replicas,
            "max_replicas": placement.max_replicas,
            "target_ongoing_requests": placement.target_ongoing_requests,
        }
    deployment: Any = VoiceWorker  # a serve.Deployment (its decorator is typed as the class)
    return deployment.options(**options).bind(config, placement.engine_options)


def is_deployed() -> bool:
    application_status = serve.status().applications.get(APP_NAME)
    return application_status is not None and application_status.status in {
        "RUNNING",
        "DEPLOYING",
    }


def deploy(config: EngineConfig, placement: RayPlacement) -> Any:
    """The deployment's handle, deploying the application first when it is not running.

    A running application is used as it is: change its placement by redeploying it
    (``serve shutdown`` on the cluster, then start the bot again).
    """
    if not is_deployed():
        serve.start(http_options={"location": "NoServer"})
        serve.run(application(config, placement), name=APP_NAME, route_prefix=None)
    return serve.get_deployment_handle(DEPLOYMENT_NAME, app_name=APP_NAME)


def stop_local() -> None:
    """Stop Serve and Ray started by :func:`connect` in this process."""
    serve.shutdown()  # type: ignore[no-untyped-call]  # Ray leaves it untyped
    ray.shutdown()
