"""The cover models in ``parrot models``: Demucs (song separation) and RVC's shared weights
(ContentVec and RMVPE). A voice's own RVC model is attached per voice instead.

These imports pull in torch (demucs, the convert package): call them from commands only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.cli.common import fail
from bot.settings import Settings
from engine.config import SeparationModel
from engine.models import ModelSpec, find_weights

COVER_MODELS = ("demucs", "rvc")
NOT_DOWNLOADED = "[yellow]not downloaded[/]"

HubFetch = Callable[[ModelSpec, Path | None], Path]
"""Downloads a spec's files from the hub into a folder (None: the hub cache)."""


def _target(settings: Settings, key: str) -> str:
    if settings.models_dir is not None:
        return str(settings.models_dir / key)
    return f"PARROT_MODELS_DIR/{key} (and set PARROT_MODELS_DIR)"


def demucs_hub_spec(name: str) -> ModelSpec:
    """The Hugging Face repository demucs itself reads ``name`` from (yaml + safetensors)."""
    from demucs.hf import DEFAULT_NAMESPACE, hf_repo_name

    from engine.separate.weights import FOLDER_NAME

    return ModelSpec(
        key=FOLDER_NAME,
        repo_id=f"{DEFAULT_NAMESPACE}/{hf_repo_name(name)}",
        required_files=(f"{name}.yaml",),
        download_patterns=(f"{name}.yaml", "*.safetensors"),
        description=f"Demucs {name} (song separation)",
    )


def rvc_specs() -> tuple[ModelSpec, ...]:
    from engine.convert.weights import RVC_SHARED_MODELS

    return RVC_SHARED_MODELS


def demucs_location(settings: Settings, name: str) -> str:
    """Where the model's files are, as a table cell (no network)."""
    from engine.separate import DemucsCheckpointError, DemucsNotDownloadedError
    from engine.separate.weights import FOLDER_NAME, check_demucs_available, local_bag

    try:
        check_demucs_available(name, models_dir=settings.models_dir)
    except DemucsNotDownloadedError:
        return NOT_DOWNLOADED
    except DemucsCheckpointError as error:
        return f"[red]broken[/]: {error}"
    if settings.models_dir is not None:
        folder = settings.models_dir / FOLDER_NAME
        if folder.is_dir() and local_bag(folder, name) is not None:
            return str(folder)
    return "Hugging Face cache"


def cover_model_rows(settings: Settings) -> list[tuple[str, str, str, str]]:
    """``(model, hub repository, in use, weights)`` for every model covers use."""
    rows = [
        (
            f"demucs {model.value}",
            demucs_hub_spec(model.value).repo_id,
            "covers" if model is settings.separation_model else "",
            demucs_location(settings, model.value),
        )
        for model in SeparationModel
    ]
    config = settings.engine_config()
    for spec in rvc_specs():
        folder = find_weights(config, spec)
        rows.append(
            (
                f"rvc {spec.key}",
                spec.repo_id,
                "rvc covers",
                str(folder) if folder else NOT_DOWNLOADED,
            )
        )
    return rows


def download_demucs_model(settings: Settings, name: str, fetch: HubFetch) -> Path:
    """Into ``PARROT_MODELS_DIR/demucs`` (demucs's hash-checked local-repo files) when it is
    set, else into the Hugging Face cache; one clear line when offline or unreachable."""
    from engine.separate import download_demucs
    from engine.separate.weights import DOWNLOAD_COMMAND, FOLDER_NAME, downloads_disabled

    option = "" if name == SeparationModel.HTDEMUCS else f" --model {name}"
    copy = (
        f"run `{DOWNLOAD_COMMAND}{option}` on a machine with internet access and copy "
        f"{name}.yaml with its model files into {_target(settings, FOLDER_NAME)}"
    )
    if downloads_disabled():
        fail(f"HF_HUB_OFFLINE is set, so the Demucs model {name!r} cannot be downloaded: {copy}")
    if settings.models_dir is None:
        return fetch(demucs_hub_spec(name), None)
    try:
        return download_demucs(name, settings.models_dir)
    except (OSError, RuntimeError) as error:  # URLError, HTTPError, a hash mismatch
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        fail(f"could not download the Demucs model {name!r} ({reason}): {copy}")


def refuse_rvc_offline(settings: Settings) -> None:
    """Offline, one line naming every file RVC needs and where it goes."""
    from engine.separate.weights import downloads_disabled

    if downloads_disabled():
        where = "; ".join(
            f"{' and '.join(spec.required_files)} into {_target(settings, spec.key)}"
            for spec in rvc_specs()
        )
        fail(
            "HF_HUB_OFFLINE is set, so RVC's shared models cannot be downloaded: on a machine "
            f"with internet access run `parrot models download rvc`, then copy {where}"
        )
