"""Covers: a song sung by an enrolled voice, with progress, caching and cancellation."""

from engine.cover.convert import VocalConverter
from engine.cover.effects import compress, high_pass, limit, reverb, vocal_chain
from engine.cover.encode import EncodedFile, OutputTooLargeError, bitrate_for, encode_to_fit
from engine.cover.mix import loudness_lufs, master, mix, shift_pitch
from engine.cover.params import DEFAULT_MAX_BYTES, CoverParams, InvalidCoverParamsError
from engine.cover.pipeline import CoverPipeline
from engine.cover.result import CoverResult, StageProgress
from engine.cover.stage import CoverStage
from engine.cover.stages import COVER_STAGES, STAGES

__all__ = [
    "COVER_STAGES",
    "DEFAULT_MAX_BYTES",
    "STAGES",
    "CoverParams",
    "CoverPipeline",
    "CoverResult",
    "CoverStage",
    "EncodedFile",
    "InvalidCoverParamsError",
    "OutputTooLargeError",
    "StageProgress",
    "VocalConverter",
    "bitrate_for",
    "compress",
    "encode_to_fit",
    "high_pass",
    "limit",
    "loudness_lufs",
    "master",
    "mix",
    "reverb",
    "shift_pitch",
    "vocal_chain",
]
