"""The engine's whole public surface: the bot (and anything else outside ``engine/``)
imports from here only.

Importing this module is cheap: no torch, chatterbox, demucs, faiss or perth (the engine
defers those to first use). Values are plain: no Discord, no database.
"""

from __future__ import annotations

from engine.audio import (
    Audio,
    AudioFormat,
    AudioRejectedError,
    RejectReason,
    encode,
    probe_duration,
)
from engine.catalogue import (
    ModelGroup,
    ModelStatus,
    WeightsState,
    configured_tts_status,
    demucs_status,
    model_catalogue,
    rvc_statuses,
    tts_statuses,
)
from engine.choice import choose_engine, describe_workers
from engine.config import (
    COVER_CACHE_FOLDER,
    EngineConfig,
    EngineKind,
    SeparationModel,
    SingingMethod,
    SpeechDtype,
    SpeechScheduling,
    TTSModel,
)
from engine.convert.errors import (
    ConversionWeightsMissingError,
    RvcCheckpointError,
    RvcIndexError,
)
from engine.convert.info import RvcModelInfo, RvcVersion
from engine.convert.params import ConversionParams, InvalidConversionParamsError, PitchMethod
from engine.cover.encode import OutputTooLargeError
from engine.cover.method import COVER_SEED, NoSingingModelError
from engine.cover.params import DEFAULT_MAX_BYTES, CoverParams, InvalidCoverParamsError
from engine.cover.result import CoverResult, StageProgress
from engine.cover.stage import CoverStage
from engine.cover.stages import COVER_STAGES, STAGES
from engine.device import DeviceUnavailableError, is_valid_device_name, resolve_device
from engine.downloads import Download, ModelDownloadError, plan_downloads
from engine.engine import Engine, EngineStatus
from engine.enrolment import SampleLimits, TrainingCopy, keep_training_copy
from engine.errors import ParrotError, as_sentence
from engine.executor import EngineBusyError, JobCancelledError
from engine.files import (
    atomic_copy,
    atomic_path,
    atomic_write_bytes,
    atomic_writer,
    remove_stale_temporaries,
)
from engine.remote.errors import RayNotInstalledError, RayUnavailableError, WorkerLostError
from engine.remote.placement import RayPlacement
from engine.remote.report import ReplicaInfo, WorkersReport
from engine.separate.errors import (
    DemucsCheckpointError,
    DemucsNotDownloadedError,
    SongTooLongError,
)
from engine.separate.song import check_song_length
from engine.singing.singer import SingingParams
from engine.speech import SpeechChunk
from engine.surface import VoiceEngine
from engine.training.errors import (
    CpuTrainingNotAllowedError,
    NotEnoughAudioError,
    PretrainedWeightsMissingError,
    TrainingCheckpointError,
    TrainingError,
)
from engine.training.params import TRAINING_SAMPLE_RATE, InvalidTrainingParamsError, TrainingParams
from engine.training.progress import TrainedModel, TrainingProgress
from engine.training.speech_amount import clean_speech_seconds
from engine.tts.decode.params import DecoderBusyError
from engine.tts.errors import ModelNotDownloadedError, NothingToSayError, VoiceNotEnrolledError
from engine.tts.params import InvalidSpeechParamsError, SpeechParams
from engine.tts.profile import PreparedSample, VoiceProfile
from engine.tts.registry import Capability, RegisteredTTSModel, tts_model, tts_models
from engine.voices import load_prepared_sample
from engine.watermark import WatermarkCheck

__all__ = [
    "COVER_CACHE_FOLDER",
    "COVER_SEED",
    "COVER_STAGES",
    "DEFAULT_MAX_BYTES",
    "STAGES",
    "TRAINING_SAMPLE_RATE",
    "Audio",
    "AudioFormat",
    "AudioRejectedError",
    "Capability",
    "ConversionParams",
    "ConversionWeightsMissingError",
    "CoverParams",
    "CoverResult",
    "CoverStage",
    "CpuTrainingNotAllowedError",
    "DecoderBusyError",
    "DemucsCheckpointError",
    "DemucsNotDownloadedError",
    "DeviceUnavailableError",
    "Download",
    "Engine",
    "EngineBusyError",
    "EngineConfig",
    "EngineKind",
    "EngineStatus",
    "InvalidConversionParamsError",
    "InvalidCoverParamsError",
    "InvalidSpeechParamsError",
    "InvalidTrainingParamsError",
    "JobCancelledError",
    "ModelDownloadError",
    "ModelGroup",
    "ModelNotDownloadedError",
    "ModelStatus",
    "NoSingingModelError",
    "NotEnoughAudioError",
    "NothingToSayError",
    "OutputTooLargeError",
    "ParrotError",
    "PitchMethod",
    "PreparedSample",
    "PretrainedWeightsMissingError",
    "RayNotInstalledError",
    "RayPlacement",
    "RayUnavailableError",
    "RegisteredTTSModel",
    "RejectReason",
    "ReplicaInfo",
    "RvcCheckpointError",
    "RvcIndexError",
    "RvcModelInfo",
    "RvcVersion",
    "SampleLimits",
    "SeparationModel",
    "SingingMethod",
    "SingingParams",
    "SongTooLongError",
    "SpeechChunk",
    "SpeechDtype",
    "SpeechParams",
    "SpeechScheduling",
    "StageProgress",
    "TTSModel",
    "TrainedModel",
    "TrainingCheckpointError",
    "TrainingCopy",
    "TrainingError",
    "TrainingParams",
    "TrainingProgress",
    "VoiceEngine",
    "VoiceNotEnrolledError",
    "VoiceProfile",
    "WatermarkCheck",
    "WeightsState",
    "WorkerLostError",
    "WorkersReport",
    "as_sentence",
    "atomic_copy",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_writer",
    "check_song_length",
    "choose_engine",
    "clean_speech_seconds",
    "configured_tts_status",
    "demucs_status",
    "describe_workers",
    "encode",
    "is_valid_device_name",
    "keep_training_copy",
    "load_prepared_sample",
    "model_catalogue",
    "plan_downloads",
    "probe_duration",
    "remove_stale_temporaries",
    "resolve_device",
    "rvc_statuses",
    "tts_model",
    "tts_models",
    "tts_statuses",
]
