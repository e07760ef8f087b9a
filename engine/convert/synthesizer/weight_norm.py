"""Weight normalisation at the checkpoint boundary.

RVC trains several convolutions under weight normalisation, so an export stores each of
them as a magnitude ``<layer>.weight_g`` and a direction ``<layer>.weight_v`` (the names
of torch's legacy ``torch.nn.utils.weight_norm``). The newer parametrised API
(``torch.nn.utils.parametrizations.weight_norm``) names the same pair
``<layer>.parametrizations.weight.original0/1``. Inference never needs the pair, so our
modules hold plain convolutions and the pair is folded into one weight on load:
``weight = g * v / ‖v‖`` with the norm taken over every dimension but the first (dim 0).
The layers concerned are marked by the classes below, which also tell
:func:`split_weight_norm` how to write an export in the original layout.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

LEGACY_SUFFIXES = (".weight_g", ".weight_v")
PARAMETRIZED_SUFFIXES = (".parametrizations.weight.original0", ".parametrizations.weight.original1")


class NormedConv1d(nn.Conv1d):
    """A Conv1d that was trained under weight normalisation (plain at inference)."""


class NormedConvTranspose1d(nn.ConvTranspose1d):
    """A ConvTranspose1d that was trained under weight normalisation (plain at inference)."""


class NormedConv2d(nn.Conv2d):
    """A Conv2d trained under weight normalisation (the period discriminators' layers)."""


NORMED_LAYER_TYPES = (NormedConv1d, NormedConvTranspose1d, NormedConv2d)


def normed_layer_names(module: nn.Module) -> set[str]:
    """Dotted names of the weight-normalised layers inside ``module``."""
    return {name for name, child in module.named_modules() if isinstance(child, NORMED_LAYER_TYPES)}


def _norm_except_first(direction: torch.Tensor) -> torch.Tensor:
    dims = tuple(range(1, direction.dim()))
    norm: torch.Tensor = torch.linalg.vector_norm(direction, dim=dims, keepdim=True)
    return norm


def fold_pair(magnitude: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """The effective weight of a weight-normalised layer (computed in float32)."""
    direction = direction.float()
    return magnitude.float() * direction / _norm_except_first(direction).clamp_min(1e-12)


def fold_weight_norm(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Replace every (g, v) pair, legacy or parametrised, by the folded ``.weight``.

    Keys that are not part of a complete pair pass through unchanged, so an export whose
    norms were already removed loads as well; an incomplete pair is left for the caller's
    key check to report.
    """
    folded: dict[str, torch.Tensor] = {}
    consumed: set[str] = set()
    for suffixes in (LEGACY_SUFFIXES, PARAMETRIZED_SUFFIXES):
        magnitude_suffix, direction_suffix = suffixes
        for key in state:
            if not key.endswith(magnitude_suffix):
                continue
            layer = key[: -len(magnitude_suffix)]
            direction_key = layer + direction_suffix
            if direction_key not in state:
                continue
            folded[layer + ".weight"] = fold_pair(state[key], state[direction_key])
            consumed.update((key, direction_key))
    for key, value in state.items():
        if key not in consumed:
            folded.setdefault(key, value)
    return folded


def split_weight_norm(
    state: Mapping[str, torch.Tensor], normed_layers: set[str]
) -> dict[str, torch.Tensor]:
    """The inverse of :func:`fold_weight_norm` for the given layers, in the legacy layout.

    ``g`` is the per-output-slice norm and ``v`` the weight itself, which is exactly what
    torch's weight_norm stores right after wrapping a layer.
    """
    split: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        layer, _, leaf = key.rpartition(".")
        if leaf == "weight" and layer in normed_layers:
            split[layer + ".weight_g"] = _norm_except_first(value.float()).to(value.dtype)
            split[layer + ".weight_v"] = value
        else:
            split[key] = value
    return split
