"""Random-weight Demucs checkpoints in demucs's own local-repo format.

The folder holds ``<sig>-<sha256[:8]>.th`` packages (``{'klass', 'args', 'kwargs',
'state'}``, written by demucs's ``save_with_checksum``) and ``<name>.yaml`` bags, so
``demucs.pretrained.get_model(name, repo=folder)`` loads them with demucs's own code:

- ``htdemucs``: one tiny HTDemucs (0.38 M parameters instead of 42 M);
- ``htdemucs_ft``: a bag of four tiny HTDemucs, each weighted on one source, shaped
  like the real fine-tuned bag.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from tests.checkpoints.cache import build_once, versions_key

SOURCES = ["drums", "bass", "other", "vocals"]
TINY = {"channels": 8, "depth": 4, "t_layers": 1, "t_heads": 4, "dconv_comp": 4}
FULL = {"dconv_mode": 3, "t_layers": 5, "bottom_channels": 512}
"""Non-default settings that give HTDemucs the released model's size (42 M parameters)."""
SEGMENT = Fraction(39, 5)  # htdemucs's 7.8 s training segment
FT_MEMBERS = 4


def _save_model(folder: Path, signature: str, seed: int, size: dict[str, int] | None = None) -> str:
    """Save one random HTDemucs as ``<signature>-<hash>.th``; returns the file name."""
    import torch
    from demucs.htdemucs import HTDemucs
    from demucs.states import save_with_checksum

    torch.manual_seed(seed)
    kwargs = {**(TINY if size is None else size), "segment": SEGMENT}
    model = HTDemucs(SOURCES, **kwargs)
    args, init_kwargs = model._init_args_kwargs
    package = {
        "klass": HTDemucs,
        "args": args,
        "kwargs": init_kwargs,
        "state": {name: value.detach().clone() for name, value in model.state_dict().items()},
    }
    save_with_checksum(package, folder / f"{signature}.th")
    (written,) = folder.glob(f"{signature}-*.th")
    return written.name


def _build(folder: Path) -> None:
    _save_model(folder, "0badc0de", seed=1)
    (folder / "htdemucs.yaml").write_text("models: ['0badc0de']\n")
    signatures = [f"f00d{index:04x}" for index in range(FT_MEMBERS)]
    for index, signature in enumerate(signatures):
        _save_model(folder, signature, seed=10 + index)
    weights = [[1.0 if row == column else 0.0 for column in range(4)] for row in range(4)]
    (folder / "htdemucs_ft.yaml").write_text(
        f"models: {signatures!r}\nweights: {weights!r}\n".replace('"', "'")
    )


def demucs_repo() -> Path:
    """The cached local repo folder (built on first use in about a second)."""
    return build_once("demucs-random", versions_key("demucs", "torch"), _build)


def write_hub_layout(folder: Path) -> None:
    """The tiny ``htdemucs`` as the Hugging Face repos hold it: ``htdemucs.yaml`` and
    ``<sig>.safetensors`` with the class and its arguments in the file's metadata."""
    import json

    import torch
    from demucs.htdemucs import HTDemucs
    from safetensors.torch import save_file

    torch.manual_seed(1)
    model = HTDemucs(SOURCES, **TINY, segment=SEGMENT)
    args, kwargs = model._init_args_kwargs
    kwargs = {
        **kwargs,
        "segment": {
            "_type": "fraction",
            "numerator": SEGMENT.numerator,
            "denominator": SEGMENT.denominator,
        },
    }
    metadata = {
        "klass": "demucs.htdemucs.HTDemucs",
        "args": json.dumps(list(args)),
        "kwargs": json.dumps(kwargs),
    }
    state = {name: value.contiguous() for name, value in model.state_dict().items()}
    save_file(state, str(folder / "0badc0de.safetensors"), metadata=metadata)
    (folder / "htdemucs.yaml").write_text("models: ['0badc0de']\n")


def _build_full(folder: Path) -> None:
    _save_model(folder, "f011f011", seed=2, size=FULL)
    (folder / "htdemucs.yaml").write_text("models: ['f011f011']\n")


def full_size_repo() -> Path:
    """A random ``htdemucs`` of the released size (170 MB), for benchmarks."""
    return build_once("demucs-random-full", versions_key("demucs", "torch"), _build_full)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        description="Copy a tiny random-weight Demucs repo into DIR/demucs, so that "
        "`PARROT_MODELS_DIR=DIR parrot cover ...` separates without downloads (the stems "
        "are noise: the weights are random)."
    )
    parser.add_argument("directory", type=Path)
    target = parser.parse_args().directory / "demucs"
    target.mkdir(parents=True, exist_ok=True)
    _build(target)
    print(f"wrote a random Demucs repo to {target}")
