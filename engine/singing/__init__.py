"""Zero-shot singing: S3Gen voice conversion plus the source melody put back with WORLD."""

from engine.singing.melody import retune
from engine.singing.pitch import (
    PitchAccuracy,
    PitchTrack,
    analyse_pitch,
    measure_pitch_accuracy,
    octaves_towards,
    pitch_accuracy,
    speaking_pitch_hz,
)
from engine.singing.s3gen import (
    S3GenCheckpointError,
    convert_speech,
    load_s3gen,
    load_voice_reference,
)
from engine.singing.singer import S3GenProvider, SingingParams, SungVocals, ZeroShotSinger
from engine.singing.split import quiet_cut_points, quiet_pieces

__all__ = [
    "PitchAccuracy",
    "PitchTrack",
    "S3GenCheckpointError",
    "S3GenProvider",
    "SingingParams",
    "SungVocals",
    "ZeroShotSinger",
    "analyse_pitch",
    "convert_speech",
    "load_s3gen",
    "load_voice_reference",
    "measure_pitch_accuracy",
    "octaves_towards",
    "pitch_accuracy",
    "quiet_cut_points",
    "quiet_pieces",
    "retune",
    "speaking_pitch_hz",
]
