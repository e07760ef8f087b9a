"""Building the engine and its limits from the settings (shared by the bot and the CLI)."""

from __future__ import annotations

from bot.settings import Settings
from engine.api import RayPlacement, SampleLimits, SpeechParams, VoiceEngine, choose_engine

UNLOAD_REQUEST = "run/unload-models.request"
"""A file the CLI drops to ask the running bot to release its models."""


def sample_limits(settings: Settings) -> SampleLimits:
    return SampleLimits(
        max_bytes=settings.max_upload_bytes,
        min_seconds=settings.min_sample_seconds,
        max_seconds=settings.max_sample_seconds,
        decode_timeout=settings.decode_timeout_seconds,
    )


def build_engine(settings: Settings) -> VoiceEngine:
    """The embedded engine, or the Ray one (``PARROT_ENGINE=ray``); both serve one API."""
    return choose_engine(
        settings.engine_config(),
        settings.engine,
        max_queued=settings.queue_size,
        idle_unload_s=settings.idle_unload_seconds,
        ray_address=settings.ray_address,
        placement=RayPlacement(
            gpus_per_replica=settings.ray_gpus_per_replica,
            min_replicas=settings.ray_min_replicas,
            max_replicas=max(settings.ray_min_replicas, settings.ray_max_replicas),
        ),
    )


def speech_params(settings: Settings) -> SpeechParams:
    """The owner's speed/quality knobs for live speech."""
    return SpeechParams(
        decoder_steps=settings.speech_decoder_steps,
        max_tokens_per_chunk=settings.speech_max_tokens,
    )
