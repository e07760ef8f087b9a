"""Checking a voice's RVC files when they are attached, long before a cover needs them."""

from __future__ import annotations

from pathlib import Path

from engine.convert.checkpoint import describe_checkpoint
from engine.convert.index import FeatureIndex
from engine.convert.info import RvcModelInfo


def describe_voice_files(model: Path, index: Path | None = None) -> RvcModelInfo:
    """Validate an RVC export and, when given, that its ``.index`` fits it; blocking.

    Raises ``RvcCheckpointError`` or ``RvcIndexError`` naming what is wrong.
    """
    info = describe_checkpoint(model)
    if index is not None:
        FeatureIndex.load(index, info.version)
    return info
