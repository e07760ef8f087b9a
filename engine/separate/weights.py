"""Finding and loading Demucs weights without ever waiting on a network that is not there.

Where a model comes from, in order:

1. ``<models_dir>/demucs/``: a folder with ``<name>.yaml`` (the bag: signatures, weights,
   segment) and one file per signature, either demucs's local-repo ``<sig>-<sha8>.th``
   (loaded by ``demucs.pretrained.get_model(name, repo=folder)``) or the Hugging Face
   layout ``<sig>.safetensors``;
2. the Hugging Face cache, read with ``local_files_only`` (no request at all);
3. demucs's own download (Hugging Face, then Meta's site), unless downloads are off:
   ``HF_HUB_OFFLINE=1`` or ``allow_download=False`` make a missing model fail at once
   instead of after demucs's 24 s of retries.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.files import atomic_copy, atomic_path
from engine.separate.errors import DemucsCheckpointError, DemucsNotDownloadedError

log = logging.getLogger(__name__)

FOLDER_NAME = "demucs"
DOWNLOAD_COMMAND = "parrot models download demucs"
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class BagFiles:
    """A bag's YAML description and the file of each model it lists."""

    yaml: Path
    signatures: list[str]
    weights: list[list[float]] | None
    segment: float | None
    files: dict[str, Path]


def downloads_disabled() -> bool:
    """Whether the environment forbids the hub (read now, not at import time)."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in _TRUE:
            return True
    return False


def _read_bag(yaml_path: Path) -> tuple[list[str], list[list[float]] | None, float | None]:
    import yaml

    try:
        bag = yaml.safe_load(yaml_path.read_text())
        signatures = [str(signature) for signature in bag["models"]]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        raise DemucsCheckpointError(
            f"{yaml_path} is not a Demucs bag description (it needs a 'models' list): {error}"
        ) from error
    if not signatures:
        raise DemucsCheckpointError(f"{yaml_path} lists no models")
    return signatures, bag.get("weights"), bag.get("segment")


def _model_file(folder: Path, signature: str) -> Path | None:
    candidates = [
        *sorted(folder.glob(f"{signature}-*.th")),
        folder / f"{signature}.th",
        folder / f"{signature}.safetensors",
    ]
    return next((path for path in candidates if path.is_file()), None)


def local_bag(folder: Path, name: str) -> BagFiles | None:
    """The bag ``name`` in ``folder`` when its YAML is there; every model file must be too."""
    yaml_path = folder / f"{name}.yaml"
    if not yaml_path.is_file():
        return None
    signatures, weights, segment = _read_bag(yaml_path)
    files: dict[str, Path] = {}
    for signature in signatures:
        path = _model_file(folder, signature)
        if path is None:
            raise DemucsCheckpointError(
                f"{yaml_path.name} in {folder} lists model {signature}, but neither "
                f"{signature}-<hash>.th nor {signature}.safetensors is there; "
                f"run `{DOWNLOAD_COMMAND}` again"
            )
        files[signature] = path
    return BagFiles(yaml_path, signatures, weights, segment, files)


def _hub_bag(name: str) -> BagFiles | None:
    """The bag from the Hugging Face cache, if it is complete there (no network)."""
    from demucs.hf import DEFAULT_NAMESPACE, hf_repo_name
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    repo_id = f"{DEFAULT_NAMESPACE}/{hf_repo_name(name)}"
    try:
        yaml_path = Path(hf_hub_download(repo_id, f"{name}.yaml", local_files_only=True))
        signatures, weights, segment = _read_bag(yaml_path)
        files = {
            signature: Path(
                hf_hub_download(repo_id, f"{signature}.safetensors", local_files_only=True)
            )
            for signature in signatures
        }
    except (LocalEntryNotFoundError, FileNotFoundError):
        return None
    return BagFiles(yaml_path, signatures, weights, segment, files)


def _load_bag(bag: BagFiles, name: str) -> Any:
    from demucs.apply import BagOfModels
    from demucs.hf import load_safetensors_model
    from demucs.pretrained import get_model
    from demucs.repo import ModelLoadingError

    folder = bag.yaml.parent
    try:
        if all(path.suffix == ".th" for path in bag.files.values()):
            return get_model(name, repo=folder)
        models = [load_safetensors_model(bag.files[signature]) for signature in bag.signatures]
        model = BagOfModels(models, bag.weights, bag.segment)
        model.eval()
        return model
    except ModelLoadingError as error:  # e.g. a checksum mismatch: a truncated download
        raise DemucsCheckpointError(
            f"the Demucs model {name!r} in {folder} is damaged ({error}); "
            f"delete it and run `{DOWNLOAD_COMMAND}` again"
        ) from error
    except (RuntimeError, KeyError, ValueError, AttributeError, EOFError) as error:
        raise DemucsCheckpointError(
            f"the Demucs model {name!r} in {folder} could not be loaded: {error}"
        ) from error


def _not_downloaded(name: str, models_dir: Path | None) -> DemucsNotDownloadedError:
    where = ""
    if models_dir is not None:
        where = f" or copy {name}.yaml and its .th files into {models_dir / FOLDER_NAME}"
    return DemucsNotDownloadedError(
        f"the Demucs model {name!r} (song separation) is not downloaded: run "
        f"`{DOWNLOAD_COMMAND}` on a machine with internet access{where}"
    )


def check_demucs_available(name: str, *, models_dir: Path | None) -> None:
    """Raise ``DemucsNotDownloadedError`` at once when ``name`` is on neither path (no network)."""
    if models_dir is not None:
        folder = models_dir / FOLDER_NAME
        if folder.is_dir() and local_bag(folder, name) is not None:
            return
    if _hub_bag(name) is None:
        raise _not_downloaded(name, models_dir)


def load_demucs(name: str, *, models_dir: Path | None, allow_download: bool = True) -> Any:
    """Load the Demucs model (a ``BagOfModels``) called ``name`` on the CPU, in eval mode."""
    if models_dir is not None:
        folder = models_dir / FOLDER_NAME
        bag = local_bag(folder, name) if folder.is_dir() else None
        if bag is not None:
            return _load_bag(bag, name)
    bag = _hub_bag(name)
    if bag is not None:
        return _load_bag(bag, name)
    if not allow_download or downloads_disabled():
        raise _not_downloaded(name, models_dir)
    from demucs.pretrained import get_model

    log.info("downloading Demucs model %s", name)
    try:
        return get_model(name)
    except Exception as error:
        raise DemucsNotDownloadedError(
            f"the Demucs model {name!r} could not be downloaded ({error}); run "
            f"`{DOWNLOAD_COMMAND}` on a machine with internet access"
        ) from error


def remote_files(name: str) -> dict[str, str]:
    """File name → URL of everything a local repo needs for ``name`` (Meta's site).

    The bag YAML ships inside the demucs wheel; the model files are listed in its
    ``remote/files.txt``.
    """
    from demucs.pretrained import REMOTE_ROOT, _parse_remote_files

    yaml_path = REMOTE_ROOT / f"{name}.yaml"
    if not yaml_path.is_file():
        raise ValueError(f"demucs does not know a model called {name!r}")
    signatures, _, _ = _read_bag(yaml_path)
    urls = _parse_remote_files(REMOTE_ROOT / "files.txt")
    return {urls[signature].rsplit("/", 1)[-1]: urls[signature] for signature in signatures}


def download_demucs(name: str, models_dir: Path) -> Path:
    """Fill ``<models_dir>/demucs/`` with ``name`` in demucs's local-repo format.

    Each file is checked against the hash prefix in its name and appears only complete.
    """
    from demucs.pretrained import REMOTE_ROOT
    from torch.hub import download_url_to_file

    folder = models_dir / FOLDER_NAME
    folder.mkdir(parents=True, exist_ok=True)
    for filename, url in remote_files(name).items():
        target = folder / filename
        if target.is_file():
            continue
        with atomic_path(target) as temporary:
            download_url_to_file(url, str(temporary), hash_prefix=filename.rsplit("-", 1)[-1][:8])
    atomic_copy(REMOTE_ROOT / f"{name}.yaml", folder / f"{name}.yaml")
    return folder
