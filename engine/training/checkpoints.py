"""Resumable training checkpoints: everything a restarted run needs to carry on.

One file, ``checkpoint.pt``, replaced atomically after every few epochs: both networks,
both optimisers and schedulers, the gradient scaler, epoch and step, the random
generators, and which training set and network it belongs to. It holds only tensors,
numbers, strings and containers, so it loads with ``weights_only=True``. Beside it,
``checkpoint.set`` names its training set, so that a checkpoint brought from elsewhere (a
Ray replica's, kept by the bot) can be matched to a set without loading it.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import torch

from engine.files import atomic_copy, atomic_write_bytes, atomic_writer
from engine.training.errors import TrainingCheckpointError

CHECKPOINT_NAME = "checkpoint.pt"
SET_NAME = "checkpoint.set"
FORMAT_VERSION = 1
REQUIRED = (
    "generator",
    "discriminator",
    "optimizer_g",
    "optimizer_d",
    "scheduler_g",
    "scheduler_d",
    "scaler",
    "epoch",
    "step",
    "rng",
    "source_hash",
    "params",
    "network",
)


def checkpoint_path(folder: Path) -> Path:
    return folder / CHECKPOINT_NAME


def save_checkpoint(folder: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (CPU tensors) so that the previous checkpoint stays until it is whole."""
    path = checkpoint_path(folder)
    with atomic_writer(path) as handle:
        torch.save({"format": FORMAT_VERSION, **payload}, handle)
    atomic_write_bytes(folder / SET_NAME, str(payload["source_hash"]).encode())
    return path


def checkpoint_set(folder: Path) -> str | None:
    """The training set of the checkpoint in ``folder``, when both files are there."""
    marker = folder / SET_NAME
    if not (marker.is_file() and checkpoint_path(folder).is_file()):
        return None
    return marker.read_text().strip() or None


def place_checkpoint(folder: Path, source: Path, source_hash: str, *, move: bool = False) -> Path:
    """Put a checkpoint made elsewhere into ``folder`` for the training set ``source_hash``;
    the next run on that set resumes from it. ``source`` is copied, or with ``move`` (a
    whole file already on ``folder``'s file system) renamed into place."""
    path = checkpoint_path(folder)
    if move:
        os.replace(source, path)
    else:
        atomic_copy(source, path)
    atomic_write_bytes(folder / SET_NAME, source_hash.encode())
    return path


def load_checkpoint(folder: Path, source_hash: str, network: list[Any]) -> dict[str, Any] | None:
    """The checkpoint in ``folder`` (None when there is none); refuses another set's."""
    path = checkpoint_path(folder)
    if not path.is_file():
        return None
    try:
        payload: Any = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as error:
        raise TrainingCheckpointError(
            f"the training checkpoint {path} cannot be read ({type(error).__name__}); "
            "delete it to start the training over"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
        raise TrainingCheckpointError(f"{path} is not a Parrot training checkpoint")
    missing = [key for key in REQUIRED if key not in payload]
    if missing:
        raise TrainingCheckpointError(f"{path} is incomplete (no {', '.join(missing)})")
    if payload["source_hash"] != source_hash:
        raise TrainingCheckpointError(
            f"{path} belongs to another training set; delete it (or use another work folder) "
            "to train on this one"
        )
    if payload["network"] != network:
        raise TrainingCheckpointError(
            f"{path} was trained from other pretrained weights (another network shape)"
        )
    return dict(payload)
