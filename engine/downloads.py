"""Fetching model weights: the TTS models and RVC's shared weights from the Hugging Face
hub, Demucs from Meta's hash-checked files (or the hub). Only ever on request (the CLI).

Each :class:`Download` says what it fetches before it runs; failures raise
:class:`ModelDownloadError` with what to do on a machine without internet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from engine.catalogue import demucs_download_command, demucs_hub_spec
from engine.config import EngineConfig, SeparationModel, TTSModel
from engine.convert.weights import RVC_SHARED_MODELS
from engine.errors import ParrotError
from engine.models import ModelSpec
from engine.separate.weights import FOLDER_NAME as DEMUCS_FOLDER
from engine.separate.weights import download_demucs, downloads_disabled
from engine.training.pretrained_files import DOWNLOAD_COMMAND as PRETRAINED_DOWNLOAD_COMMAND
from engine.training.pretrained_files import PRETRAINED
from engine.tts.registry import tts_model, tts_models


class ModelDownloadError(ParrotError, RuntimeError):
    """Weights could not be fetched (offline, unreachable, a bad name); the message says
    how to get them onto the machine instead."""


@dataclass(frozen=True, slots=True)
class Download:
    announcement: str
    """What is being fetched, e.g. ``Downloading Chatterbox Turbo (...) from <repo>…``."""
    run: Callable[[], Path]
    """Fetch it (blocking); returns where the files are."""


def _models_target(config: EngineConfig, key: str) -> str:
    if config.models_dir is not None:
        return str(config.models_dir / key)
    return f"PARROT_MODELS_DIR/{key} (and set PARROT_MODELS_DIR)"


def fetch_from_hub(spec: ModelSpec, target: Path | None) -> Path:
    """``spec``'s files into ``target`` (None: the hub cache); blocking."""
    from huggingface_hub import snapshot_download  # deferred: a large import
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(
            snapshot_download(
                spec.repo_id, allow_patterns=list(spec.download_patterns), local_dir=target
            )
        )
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        hint = " (HF_HUB_OFFLINE is set)" if "offline" in reason.lower() else ""
        raise ModelDownloadError(
            f"could not download {spec.repo_id}{hint}: {reason}. On a machine without "
            f"internet, copy the files into PARROT_MODELS_DIR/{spec.key} instead"
        ) from error


def _hub_download(config: EngineConfig, spec: ModelSpec) -> Download:
    target = config.models_dir / spec.key if config.models_dir else None
    return Download(
        f"Downloading {spec.description} from {spec.repo_id}…",
        partial(fetch_from_hub, spec, target),
    )


def _demucs(config: EngineConfig, name: str) -> Path:
    """Into ``PARROT_MODELS_DIR/demucs`` (demucs's hash-checked local-repo files) when it
    is set, else into the Hugging Face cache."""
    copy = (
        f"run `{demucs_download_command(name)}` on a machine with internet access and copy "
        f"{name}.yaml with its model files into {_models_target(config, DEMUCS_FOLDER)}"
    )
    if downloads_disabled():
        raise ModelDownloadError(
            f"HF_HUB_OFFLINE is set, so the Demucs model {name!r} cannot be downloaded: {copy}"
        )
    if config.models_dir is None:
        return fetch_from_hub(demucs_hub_spec(name), None)
    try:
        return download_demucs(name, config.models_dir)
    except (OSError, RuntimeError) as error:  # URLError, HTTPError, a hash mismatch
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelDownloadError(
            f"could not download the Demucs model {name!r} ({reason}): {copy}"
        ) from error


def _refuse_rvc_offline(config: EngineConfig) -> None:
    if downloads_disabled():
        where = "; ".join(
            f"{' and '.join(spec.required_files)} into {_models_target(config, spec.key)}"
            for spec in RVC_SHARED_MODELS
        )
        raise ModelDownloadError(
            "HF_HUB_OFFLINE is set, so RVC's shared models cannot be downloaded: on a machine "
            f"with internet access run `parrot models download rvc`, then copy {where}"
        )


def _pretrained_copy_hint(config: EngineConfig) -> str:
    files = " and ".join(PRETRAINED.required_files)
    return (
        f"on a machine with internet access run `{PRETRAINED_DOWNLOAD_COMMAND}`, then copy "
        f"{files} (from {PRETRAINED.repo_id}) into {_models_target(config, PRETRAINED.key)}"
    )


def _fetch_pretrained(config: EngineConfig) -> Path:
    target = config.models_dir / PRETRAINED.key if config.models_dir else None
    try:
        return fetch_from_hub(PRETRAINED, target)
    except ModelDownloadError as error:
        cause = error.__cause__ or error
        reason = (str(cause).splitlines() or [type(cause).__name__])[0]
        raise ModelDownloadError(
            f"could not download the RVC pretrained weights ({reason}): "
            f"{_pretrained_copy_hint(config)}"
        ) from error


def _pretrained_download(config: EngineConfig) -> Download:
    if downloads_disabled():
        raise ModelDownloadError(
            "HF_HUB_OFFLINE is set, so the RVC pretrained weights cannot be downloaded: "
            f"{_pretrained_copy_hint(config)}"
        )
    return Download(
        f"Downloading {PRETRAINED.description} from {PRETRAINED.repo_id}…",
        partial(_fetch_pretrained, config),
    )


def plan_downloads(
    config: EngineConfig, model: str, separation: SeparationModel | None = None
) -> list[Download]:
    """What ``parrot models download <model>`` fetches, in order.

    ``model``: original, turbo, multilingual, all, configured, demucs (``separation`` or
    the configured one), rvc, or rvc-pretrained (what training starts from).
    """
    if model == "demucs":
        name = (separation or config.separation_model).value
        return [
            Download(
                f"Downloading Demucs {name} (song separation)…", partial(_demucs, config, name)
            )
        ]
    if model == "rvc":
        _refuse_rvc_offline(config)
        return [_hub_download(config, spec) for spec in RVC_SHARED_MODELS]
    if model == PRETRAINED.key:
        return [_pretrained_download(config)]
    if model == "configured":
        variants = [config.tts_model]
    elif model == "all":
        variants = [entry.model for entry in tts_models()]
    else:
        try:
            variants = [TTSModel(model)]
        except ValueError:
            raise ModelDownloadError(
                f"unknown model {model!r}: choose original, turbo, multilingual, all, demucs, "
                "rvc or rvc-pretrained"
            ) from None
    return [_hub_download(config, tts_model(variant).weights) for variant in variants]
