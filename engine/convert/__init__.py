"""Voice conversion: RVC v1/v2 inference written for Parrot (no fairseq).

Loads RVC's own exports (``.pth`` + ``.index``), ContentVec through transformers, and
RMVPE/FCPE/Praat pitch. Importing this package imports torch: import it lazily.
"""

from engine.convert.checkpoint import RvcModelInfo, describe_checkpoint, read_checkpoint
from engine.convert.errors import (
    ContentEncoderError,
    ConversionInputError,
    ConversionWeightsMissingError,
    PitchExtractorUnavailableError,
    RvcCheckpointError,
    RvcIndexError,
)
from engine.convert.features import ContentFeatures
from engine.convert.index import FeatureIndex
from engine.convert.params import ConversionParams, InvalidConversionParamsError, PitchMethod
from engine.convert.pieces import Chunking
from engine.convert.pipeline import ProgressCallback, convert_voice
from engine.convert.pitch import PitchExtractor
from engine.convert.runtime import ConversionModels
from engine.convert.synthesizer import RvcVersion
from engine.convert.voice_model import RvcModel, load_rvc_model
from engine.convert.weights import CONTENT_ENCODER, DOWNLOAD_COMMAND, RMVPE, RVC_SHARED_MODELS

__all__ = [
    "CONTENT_ENCODER",
    "DOWNLOAD_COMMAND",
    "RMVPE",
    "RVC_SHARED_MODELS",
    "Chunking",
    "ContentEncoderError",
    "ContentFeatures",
    "ConversionInputError",
    "ConversionModels",
    "ConversionParams",
    "ConversionWeightsMissingError",
    "FeatureIndex",
    "InvalidConversionParamsError",
    "PitchExtractor",
    "PitchExtractorUnavailableError",
    "PitchMethod",
    "ProgressCallback",
    "RvcCheckpointError",
    "RvcIndexError",
    "RvcModel",
    "RvcModelInfo",
    "RvcVersion",
    "convert_voice",
    "describe_checkpoint",
    "load_rvc_model",
    "read_checkpoint",
]
