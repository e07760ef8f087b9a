"""The protocol every TTS backend follows. All methods run on the executor's worker thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from engine.executor import CancelToken
from engine.tts.params import SpeechParams


class TTSBackend(Protocol):
    name: str
    """Identifies the model that made a voice's conditionals (e.g. 'chatterbox-original')."""
    sample_rate: int

    @property
    def loaded(self) -> bool: ...

    def check_available(self) -> None:
        """Raise ModelNotDownloadedError at once when the weights are not on this machine."""

    def load(self) -> None:
        """Load weights onto the device; raises ModelNotDownloadedError when absent."""

    def unload(self) -> None: ...

    def make_conditionals(self, reference_wav: Path, exaggeration: float) -> Any:
        """Analyse a reference clip once (the expensive part of cloning)."""

    def save_conditionals(self, conditionals: Any, path: Path) -> None: ...

    def load_conditionals(self, path: Path) -> Any: ...

    def generate(
        self, conditionals: Any, text: str, params: SpeechParams, token: CancelToken
    ) -> np.ndarray:
        """One chunk of text to float32 mono audio at ``sample_rate``."""


@runtime_checkable
class VoiceConversionBackend(Protocol):
    """A backend that also converts one voice into another (zero-shot singing uses it).

    Registered models declare it with ``Capability.VOICE_CONVERSION``.
    """

    def voice_converter(self) -> Any:
        """The loaded conversion module (S3Gen for Chatterbox); worker thread only."""
