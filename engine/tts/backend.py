"""The protocol every TTS backend follows. All methods run on the executor's worker thread."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from engine.executor import CancelToken
from engine.tts.decode.params import DecodeParams, FinishedRequest, StepOutput
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


@dataclass(frozen=True, slots=True)
class DecodeRequest:
    """What a speech decoder's ``add_request`` takes for one sentence."""

    conditioning: Any
    """The model's conditioning for the voice (a batch-of-one ``T3Cond`` for Chatterbox)."""
    text_tokens: Any
    """The sentence's text tokens, laid out as the decoder expects them."""
    params: DecodeParams


class SpeechDecoder(Protocol):
    """A batched speech-token decoder: requests join and leave between steps."""

    max_requests: int

    def add_request(self, conditioning: Any, text_tokens: Any, params: DecodeParams) -> int: ...

    def step(self, *, keep_logits: bool = False) -> StepOutput: ...

    def cancel(self, request_id: int) -> FinishedRequest: ...


class AudioStream(Protocol):
    """One sentence's audio, decoded in pieces as its speech tokens arrive."""

    def wants_piece(self, token_count: int, finished: bool) -> bool: ...

    @property
    def done(self) -> bool: ...


VocodeJob = tuple[AudioStream, Sequence[int], bool]
"""An audio stream, every valid speech token of its sentence so far, whether they are all."""


@runtime_checkable
class BatchedSpeechBackend(Protocol):
    """A backend whose speech the engine decodes itself, many requests per step, with
    audio streamed before a sentence ends. Worker thread only, like ``TTSBackend``."""

    def speech_decoder(self, max_requests: int, max_length: int) -> SpeechDecoder:
        """A decoder over the loaded model for up to ``max_requests`` sentences at once,
        each at most ``max_length`` positions (prompt and speech tokens)."""

    def decode_request(
        self, conditionals: Any, text: str, params: SpeechParams, *, seed: int, budget: int
    ) -> DecodeRequest:
        """One sentence's prompt and sampling for the decoder."""

    def audio_stream(
        self, conditionals: Any, params: SpeechParams, *, seed: int, first_tokens: int
    ) -> AudioStream: ...

    def vocode(self, jobs: Sequence[VocodeJob]) -> list[np.ndarray]:
        """Each job's new final audio (not watermarked), several streams in one call."""

    def speech_tokens(self, tokens: Sequence[int], finished: bool) -> list[int]:
        """The decoder's tokens as the vocoder takes them (special tokens dropped)."""

    def watermark(self, samples: np.ndarray) -> np.ndarray:
        """``samples`` with the model's audio watermark."""
