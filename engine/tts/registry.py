"""The TTS models Parrot can speak with: each registered once, with what it can do.

A registration names the model, where its weights come from, how to build its backend
and the capabilities it offers. Adding a model means writing its backend module and
adding one :func:`register` line at the bottom of this file (and its ``TTSModel`` name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from engine.config import EngineConfig, TTSModel
from engine.models import ModelSpec
from engine.tts import chatterbox
from engine.tts.backend import TTSBackend
from engine.tts.languages import language_name

BackendFactory = Callable[[EngineConfig, str], TTSBackend]
"""Builds a backend for ``(config, device)``; cheap: weights load on first use."""


class Capability(StrEnum):
    SPEECH = "speech"
    VOICE_CONVERSION = "voice conversion"
    """The backend implements ``VoiceConversionBackend``: zero-shot singing works."""
    EXPRESSIVENESS = "expressiveness"
    """``SpeechParams.exaggeration`` changes how it speaks (Turbo ignores it)."""
    GUIDANCE = "guidance"
    """``SpeechParams.cfg_weight`` changes how it speaks (Turbo has no guidance)."""


@dataclass(frozen=True, slots=True)
class RegisteredTTSModel:
    model: TTSModel
    weights: ModelSpec
    factory: BackendFactory
    capabilities: frozenset[Capability]
    languages: tuple[str, ...]
    """Language codes it speaks (``SpeechParams.language``)."""

    @property
    def description(self) -> str:
        return self.weights.description

    def offers(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def speaks(self, language: str) -> bool:
        return language.lower() in self.languages

    @property
    def english_only(self) -> bool:
        return self.languages == ("en",)

    @staticmethod
    def language_name(code: str) -> str:
        """``French`` for ``fr`` (the code itself when unknown)."""
        return language_name(code)


_REGISTRY: dict[TTSModel, RegisteredTTSModel] = {}


def register(entry: RegisteredTTSModel) -> None:
    if entry.model in _REGISTRY:
        raise ValueError(f"the TTS model {entry.model.value!r} is registered twice")
    _REGISTRY[entry.model] = entry


def tts_model(model: TTSModel) -> RegisteredTTSModel:
    """The registration of ``model``; every ``TTSModel`` has one."""
    return _REGISTRY[model]


def tts_models() -> tuple[RegisteredTTSModel, ...]:
    """Every registered model, in registration order."""
    return tuple(_REGISTRY.values())


def _chatterbox(
    variant: TTSModel, languages: tuple[str, ...], *, guided: bool = True
) -> RegisteredTTSModel:
    capabilities = {Capability.SPEECH, Capability.VOICE_CONVERSION}
    if guided:
        capabilities |= {Capability.EXPRESSIVENESS, Capability.GUIDANCE}
    return RegisteredTTSModel(
        model=variant,
        weights=chatterbox.WEIGHTS[variant],
        factory=partial(chatterbox.ChatterboxBackend, variant=variant),
        capabilities=frozenset(capabilities),
        languages=languages,
    )


register(_chatterbox(TTSModel.ORIGINAL, ("en",)))
register(_chatterbox(TTSModel.TURBO, ("en",), guided=False))
register(_chatterbox(TTSModel.MULTILINGUAL, chatterbox.MULTILINGUAL_LANGUAGES))
