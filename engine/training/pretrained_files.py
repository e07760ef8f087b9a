"""Where the standard RVC v2 pretrained weights that training starts from are.

Training fine-tunes RVC's published 40 kHz pitch-guided generator (``f0G40k.pth``) and
multi-period discriminator (``f0D40k.pth``). They come from the hub repository RVC itself
downloads them from (``parrot models download rvc-pretrained``), kept in the hub's
layout (``pretrained_v2/...``) under ``PARROT_MODELS_DIR/rvc-pretrained`` or in the hub
cache. Looking them up never touches the network.
"""

from __future__ import annotations

from pathlib import Path

from engine.models import ModelSpec, cached_folder
from engine.training.errors import PretrainedWeightsMissingError

DOWNLOAD_COMMAND = "parrot models download rvc-pretrained"
GENERATOR_FILE = "pretrained_v2/f0G40k.pth"
DISCRIMINATOR_FILE = "pretrained_v2/f0D40k.pth"

PRETRAINED = ModelSpec(
    key="rvc-pretrained",
    repo_id="lj1995/VoiceConversionWebUI",
    required_files=(GENERATOR_FILE, DISCRIMINATOR_FILE),
    download_patterns=(GENERATOR_FILE, DISCRIMINATOR_FILE),
    description="RVC v2 pretrained generator and discriminator for training (40k, f0)",
)


def _missing_in(folder: Path) -> list[str]:
    return [name for name in PRETRAINED.required_files if not (folder / name).is_file()]


def _describe(missing: list[str], folder: Path | None) -> str:
    names = " and ".join(Path(name).name for name in missing)
    if folder is None:
        return f"{names}: PARROT_MODELS_DIR is not set and the Hugging Face cache has none"
    return f"{names} in {folder / Path(missing[0]).parent}"


def pretrained_paths(models_dir: Path | None) -> tuple[Path, Path]:
    """(generator, discriminator): ``models_dir/rvc-pretrained`` first, then the hub cache.

    Raises :class:`PretrainedWeightsMissingError` naming the missing files and the
    command that downloads them.
    """
    local = Path(models_dir) / PRETRAINED.key if models_dir is not None else None
    missing = _missing_in(local) if local is not None else list(PRETRAINED.required_files)
    folder = local if local is not None and not missing else cached_folder(PRETRAINED)
    if folder is None:
        raise PretrainedWeightsMissingError(_describe(missing, local))
    return folder / GENERATOR_FILE, folder / DISCRIMINATOR_FILE
