"""Voice conversion: RVC v1/v2 inference written for Parrot (no fairseq).

Loads RVC's own exports (``.pth`` + ``.index``), ContentVec through transformers, and
RMVPE/FCPE/Praat pitch. This package's own names are light (parameters, errors, model
descriptions, weight locations); the inference modules import torch, so import them from
their modules (``engine.convert.runtime``, ``engine.convert.pipeline``...) where needed.
"""

from engine.convert.errors import (
    ContentEncoderError,
    ConversionInputError,
    ConversionWeightsMissingError,
    PitchExtractorUnavailableError,
    RvcCheckpointError,
    RvcIndexError,
)
from engine.convert.info import RvcModelInfo, RvcVersion
from engine.convert.params import ConversionParams, InvalidConversionParamsError, PitchMethod
from engine.convert.weights import CONTENT_ENCODER, DOWNLOAD_COMMAND, RMVPE, RVC_SHARED_MODELS

__all__ = [
    "CONTENT_ENCODER",
    "DOWNLOAD_COMMAND",
    "RMVPE",
    "RVC_SHARED_MODELS",
    "ContentEncoderError",
    "ConversionInputError",
    "ConversionParams",
    "ConversionWeightsMissingError",
    "InvalidConversionParamsError",
    "PitchExtractorUnavailableError",
    "PitchMethod",
    "RvcCheckpointError",
    "RvcIndexError",
    "RvcModelInfo",
    "RvcVersion",
]
