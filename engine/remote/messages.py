"""What the bot and the replicas send each other: plain, picklable values.

Files travel as :class:`Blob` references (a content hash); the bytes go once through the
cluster's registry (:mod:`engine.remote.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.config import SingingMethod
from engine.convert.params import ConversionParams
from engine.cover.params import CoverParams
from engine.cover.result import CoverResult
from engine.singing.singer import SingingParams
from engine.training.progress import TrainedModel

PIECE_BYTES = 32 * 1024**2
"""The most bytes one value carries between the bot and a replica: larger files (a
training checkpoint is about 1.3 GB) travel in pieces, and neither side holds them whole."""


@dataclass(frozen=True, slots=True)
class Blob:
    digest: str
    """The whole file's content hash."""
    suffix: str = ""
    """Kept on the replica's copy, for readers that look at a file's extension."""
    pieces: tuple[str, ...] = ()
    """The hashes of its pieces in order, for a file sent in pieces; none: one blob."""


@dataclass(frozen=True, slots=True)
class VoiceBlobs:
    """A voice as a replica needs it: its conditionals, and its reference when it has one."""

    conditionals: Blob
    reference: Blob | None = None


@dataclass(frozen=True, slots=True)
class CoverRequest:
    song: Blob
    voice: VoiceBlobs | None
    singing_model: tuple[Blob, Blob | None] | None
    method: SingingMethod
    params: CoverParams | None
    conversion: ConversionParams | None
    singing: SingingParams | None


@dataclass(frozen=True, slots=True)
class CoverProgress:
    stage: str
    fraction: float


@dataclass(frozen=True, slots=True)
class CoverDone:
    """The finished cover: its metadata (``result.path`` is on the replica) and its bytes."""

    result: CoverResult
    data: bytes


class TrainingFile(StrEnum):
    """The files a training sends back: its checkpoints now and then, then its results."""

    CHECKPOINT = "checkpoint"
    MODEL = "model"
    INDEX = "index"


@dataclass(frozen=True, slots=True)
class TrainingFilePiece:
    """A piece of a file a training sends back (:mod:`engine.remote.pieces`). A checkpoint
    lets the caller resume the training elsewhere (:mod:`engine.remote.training`); a
    real-size one is about 1.3 GB, an index can be hundreds of MB."""

    file: TrainingFile
    offset: int
    data: bytes
    size: int
    """The whole file's bytes."""
    source_hash: str = ""
    """A checkpoint's training set."""


@dataclass(frozen=True, slots=True)
class TrainingDone:
    """The trained model's metadata (paths on the replica); its files came before it."""

    result: TrainedModel


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where a training sent to a replica starts: a checkpoint kept by the caller."""

    checkpoint: Blob
    source_hash: str
