"""Audio in and out: decoding uploads, cleaning and checking voice samples, encoding."""

from engine.audio.checks import QualityReport, assess, check_voice_sample
from engine.audio.decode import decode, probe_duration
from engine.audio.encode import AudioFormat, encode, encoded_bytes, write_wav
from engine.audio.errors import AudioRejectedError, AudioToolError, RejectReason
from engine.audio.process import (
    concatenate,
    crossfade_join,
    measure_loudness,
    normalize_loudness,
    remove_dc,
    resample,
    trim_silence,
)
from engine.audio.sample import prepare_voice_sample
from engine.audio.types import Audio

__all__ = [
    "Audio",
    "AudioFormat",
    "AudioRejectedError",
    "AudioToolError",
    "QualityReport",
    "RejectReason",
    "assess",
    "check_voice_sample",
    "concatenate",
    "crossfade_join",
    "decode",
    "encode",
    "encoded_bytes",
    "measure_loudness",
    "normalize_loudness",
    "prepare_voice_sample",
    "probe_duration",
    "remove_dc",
    "resample",
    "trim_silence",
    "write_wav",
]
