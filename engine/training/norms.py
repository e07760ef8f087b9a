"""Weight normalisation while training, and the legacy key layout RVC's files use.

Parrot's inference modules mark the layers RVC trains under weight normalisation
(:mod:`engine.convert.synthesizer.weight_norm`). Training wraps exactly those layers with
torch's parametrised weight norm, so the optimiser moves magnitude and direction as RVC
does; on disk (pretrained files, exports) the pair is named ``weight_g``/``weight_v``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import torch
from torch import nn

from engine.convert.synthesizer.weight_norm import (
    LEGACY_SUFFIXES,
    PARAMETRIZED_SUFFIXES,
    normed_layer_names,
)

ModuleT = TypeVar("ModuleT", bound=nn.Module)


def apply_weight_norm(module: ModuleT) -> ModuleT:
    """Parametrise every marked layer of ``module`` (in place); returns it."""
    names = normed_layer_names(module)
    for name, child in module.named_modules():
        if name in names:
            nn.utils.parametrizations.weight_norm(child, name="weight", dim=0)
    return module


def _renamed(key: str, old: tuple[str, str], new: tuple[str, str]) -> str:
    for before, after in zip(old, new, strict=True):
        if key.endswith(before):
            return key[: -len(before)] + after
    return key


def to_legacy_keys(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``...parametrizations.weight.original0/1`` -> ``...weight_g/weight_v``."""
    return {_renamed(k, PARAMETRIZED_SUFFIXES, LEGACY_SUFFIXES): v for k, v in state.items()}


def from_legacy_keys(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``...weight_g/weight_v`` -> the parametrised names of a module from apply_weight_norm."""
    return {_renamed(k, LEGACY_SUFFIXES, PARAMETRIZED_SUFFIXES): v for k, v in state.items()}
