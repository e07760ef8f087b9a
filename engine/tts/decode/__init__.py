"""Parrot's own batched speech-token decoding (issue 12): many requests, one step."""

from engine.tts.decode.guided import GuidedT3Decoder
from engine.tts.decode.params import (
    DecodeParams,
    DecoderBusyError,
    FinishedRequest,
    FinishReason,
    StepOutput,
)

__all__ = [
    "DecodeParams",
    "DecoderBusyError",
    "FinishReason",
    "FinishedRequest",
    "GuidedT3Decoder",
    "StepOutput",
]
