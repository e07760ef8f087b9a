"""Every model the engine may load, and whether its weights are on this machine.

No network and no model load: the CLI's ``parrot models list`` and ``parrot doctor`` read
this. A voice's own RVC model is attached per voice and is not listed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.config import EngineConfig, SeparationModel
from engine.convert.weights import DOWNLOAD_COMMAND as RVC_DOWNLOAD_COMMAND
from engine.convert.weights import RVC_SHARED_MODELS
from engine.models import ModelSpec, find_weights
from engine.separate.errors import DemucsCheckpointError, DemucsNotDownloadedError
from engine.separate.weights import DOWNLOAD_COMMAND as DEMUCS_DOWNLOAD_COMMAND
from engine.separate.weights import FOLDER_NAME as DEMUCS_FOLDER
from engine.separate.weights import check_demucs_available, local_bag
from engine.training.pretrained_files import DOWNLOAD_COMMAND as PRETRAINED_DOWNLOAD_COMMAND
from engine.training.pretrained_files import PRETRAINED
from engine.tts.registry import tts_models


class ModelGroup(StrEnum):
    TTS = "tts"
    SEPARATION = "demucs"
    RVC = "rvc"
    TRAINING = "training"


class WeightsState(StrEnum):
    READY = "ready"
    MISSING = "not downloaded"
    BROKEN = "broken"


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """One model and where its weights are."""

    group: ModelGroup
    name: str
    """As the CLI lists it: ``original``, ``demucs htdemucs``, ``rvc rmvpe``..."""
    key: str
    """Folder name under ``PARROT_MODELS_DIR``."""
    description: str
    repository: str
    """The Hugging Face repository it downloads from."""
    in_use: bool
    """Whether the configuration uses it (RVC's models: always, for RVC covers; the
    pretrained weights: always, for training)."""
    state: WeightsState
    location: str | None = None
    """A folder, or ``Hugging Face cache``; None unless ready."""
    problem: str = ""
    """Why a broken model cannot load."""
    download_command: str = ""

    @property
    def ready(self) -> bool:
        return self.state is WeightsState.READY


def demucs_hub_spec(name: str) -> ModelSpec:
    """The Hugging Face repository demucs itself reads ``name`` from (yaml + safetensors)."""
    from demucs.hf import DEFAULT_NAMESPACE, hf_repo_name  # deferred: imports torch

    return ModelSpec(
        key=DEMUCS_FOLDER,
        repo_id=f"{DEFAULT_NAMESPACE}/{hf_repo_name(name)}",
        required_files=(f"{name}.yaml",),
        download_patterns=(f"{name}.yaml", "*.safetensors"),
        description=f"Demucs {name} (song separation)",
    )


def demucs_download_command(name: str) -> str:
    option = "" if name == SeparationModel.HTDEMUCS else f" --model {name}"
    return DEMUCS_DOWNLOAD_COMMAND + option


def _weights_status(
    config: EngineConfig,
    group: ModelGroup,
    name: str,
    spec: ModelSpec,
    *,
    in_use: bool,
    command: str,
) -> ModelStatus:
    folder = find_weights(config, spec)
    return ModelStatus(
        group,
        name,
        spec.key,
        spec.description,
        spec.repo_id,
        in_use,
        WeightsState.READY if folder else WeightsState.MISSING,
        str(folder) if folder else None,
        download_command=command,
    )


def _demucs_location(config: EngineConfig, name: str) -> str:
    if config.models_dir is not None:
        folder = config.models_dir / DEMUCS_FOLDER
        if folder.is_dir() and local_bag(folder, name) is not None:
            return str(folder)
    return "Hugging Face cache"


def demucs_status(config: EngineConfig, model: SeparationModel) -> ModelStatus:
    name = model.value
    command = demucs_download_command(name)
    description = f"Demucs {name} (song separation)"
    in_use = model is config.separation_model

    def status(state: WeightsState, location: str | None = None, problem: str = "") -> ModelStatus:
        try:
            repository = demucs_hub_spec(name).repo_id
        except ImportError:
            repository = ""
        return ModelStatus(
            ModelGroup.SEPARATION,
            f"demucs {name}",
            DEMUCS_FOLDER,
            description,
            repository,
            in_use,
            state,
            location,
            problem,
            command,
        )

    try:
        check_demucs_available(name, models_dir=config.models_dir)
    except DemucsNotDownloadedError:
        return status(WeightsState.MISSING)
    except (DemucsCheckpointError, ImportError) as error:
        return status(WeightsState.BROKEN, problem=str(error))
    return status(WeightsState.READY, _demucs_location(config, name))


def tts_statuses(config: EngineConfig) -> list[ModelStatus]:
    return [
        _weights_status(
            config,
            ModelGroup.TTS,
            entry.model.value,
            entry.weights,
            in_use=entry.model is config.tts_model,
            command=f"parrot models download {entry.model.value}",
        )
        for entry in tts_models()
    ]


def rvc_statuses(config: EngineConfig) -> list[ModelStatus]:
    return [
        _weights_status(
            config,
            ModelGroup.RVC,
            f"rvc {spec.key}",
            spec,
            in_use=True,
            command=RVC_DOWNLOAD_COMMAND,
        )
        for spec in RVC_SHARED_MODELS
    ]


def training_status(config: EngineConfig) -> ModelStatus:
    """The RVC v2 pretrained weights that training fine-tunes."""
    return _weights_status(
        config,
        ModelGroup.TRAINING,
        PRETRAINED.key,
        PRETRAINED,
        in_use=True,
        command=PRETRAINED_DOWNLOAD_COMMAND,
    )


def model_catalogue(config: EngineConfig) -> list[ModelStatus]:
    """Every model: the TTS models, both Demucs models, RVC's shared weights, and the
    pretrained weights training starts from."""
    return [
        *tts_statuses(config),
        *(demucs_status(config, model) for model in SeparationModel),
        *rvc_statuses(config),
        training_status(config),
    ]


def configured_tts_status(config: EngineConfig) -> ModelStatus:
    """The TTS model the configuration speaks with."""
    return next(status for status in tts_statuses(config) if status.in_use)
