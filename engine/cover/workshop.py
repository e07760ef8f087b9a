"""Covers on the engine: the cover pipeline's models on the executor, and how a voice sings.

Separation and RVC each live in an executor model slot, so they load on first use,
unload when idle and share the device queue with speech. Zero-shot singing borrows the
voice converter of the loaded TTS model (a declared capability) instead of loading a
second copy. Importing this module imports torch (the convert runtime).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.config import COVER_CACHE_FOLDER, EngineConfig, SingingMethod
from engine.convert.params import ConversionParams, PitchMethod
from engine.convert.runtime import ConversionModels
from engine.convert.singer import RvcSinger, SingingModel
from engine.convert.weights import content_encoder_folder, rmvpe_path
from engine.cover.convert import VocalConverter
from engine.cover.method import COVER_SEED, NoSingingModelError
from engine.cover.pipeline import CoverPipeline
from engine.executor import GpuExecutor
from engine.separate import DemucsSeparator, check_demucs_available
from engine.singing import SingingParams, ZeroShotSinger
from engine.tts.errors import VoiceNotEnrolledError
from engine.tts.profile import VoiceProfile


class CoverWorkshop:
    """Everything covers need on one engine; built once, after the executor starts."""

    def __init__(
        self,
        config: EngineConfig,
        executor: GpuExecutor,
        device: str,
        voice_converter: Callable[[], Any],
        check_tts: Callable[[], None],
    ) -> None:
        """``voice_converter`` returns the loaded TTS model's voice converter (worker
        thread); ``check_tts`` only asks whether the TTS weights are here."""
        self.config = config
        self.device = device
        self._voice_converter = voice_converter
        self._check_tts = check_tts
        self.separator = DemucsSeparator(
            config.separation_model,
            models_dir=config.models_dir,
            device=device,
            allow_download=False,
        )
        self.pipeline = CoverPipeline(
            executor,
            self.separator,
            config.data_dir / COVER_CACHE_FOLDER,
            max_song_seconds=config.max_song_seconds,
            max_song_bytes=config.max_song_bytes,
        )
        conversion = ConversionModels(config, device)
        self._rvc = executor.slot("rvc", lambda: conversion, lambda loaded: loaded.release())

    async def converter(
        self,
        method: SingingMethod,
        profile: VoiceProfile,
        singing_model: tuple[Path, Path | None] | None,
        *,
        conversion: ConversionParams | None = None,
        singing: SingingParams | None = None,
    ) -> VocalConverter:
        """The converter for ``method`` (already chosen, not AUTO)."""
        if method is SingingMethod.RVC:
            if singing_model is None:
                raise NoSingingModelError("this voice has no singing model")
            model, index = singing_model
            hashed = await asyncio.to_thread(SingingModel.hashed, model, index)
            params = conversion or ConversionParams(seed=COVER_SEED)
            return RvcSinger(self._rvc.get, hashed, params)
        if not profile.exists:
            raise VoiceNotEnrolledError(
                f"this voice has no {profile.backend} conditionals to sing with; enrol it again"
            )
        return ZeroShotSinger(
            self._voice_converter,
            profile.conditionals,
            model_label=profile.backend,
            reference=profile.reference,
            device=self.device,
            params=singing or SingingParams(seed=COVER_SEED),
        )

    def check_available(
        self, method: SingingMethod, pitch_method: PitchMethod = PitchMethod.RMVPE
    ) -> None:
        """Raise ``ModelNotDownloadedError`` (with the command to run) at once; blocking."""
        check_demucs_available(self.config.separation_model, models_dir=self.config.models_dir)
        if method is SingingMethod.RVC:
            content_encoder_folder(self.config)
            if pitch_method is PitchMethod.RMVPE:
                rmvpe_path(self.config)
        else:
            self._check_tts()
