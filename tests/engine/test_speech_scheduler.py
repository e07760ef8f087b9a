"""The speech scheduler's own rules, on a backend test double (no model): which sentences
are vocoded in pieces, how texts share the decoder and fail alone.

The model-backed behaviour (real decoders, S3Gen pieces, watermark) is in
test_speech_batched.py; this file checks the scheduling decisions quickly and exactly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.api import Engine, EngineConfig, SpeechParams, VoiceProfile
from engine.executor import CancelToken
from engine.tts.backend import DecodeRequest, VocodeJob
from engine.tts.decode.params import DecodeParams, FinishedRequest, FinishReason, StepOutput

RATE = 24_000
TOKENS = 30


class CountingDecoder:
    """Gives every request ``max_new_tokens`` tokens, one per step, then finishes it."""

    def __init__(self, max_requests: int) -> None:
        self.max_requests = max_requests
        self.active: dict[int, list[int]] = {}
        self.budgets: dict[int, int] = {}
        self.widths: list[int] = []
        self._next = 0

    def add_request(self, conditioning: Any, text_tokens: Any, params: DecodeParams) -> int:
        self._next += 1
        self.active[self._next] = []
        self.budgets[self._next] = params.max_new_tokens
        return self._next

    def step(self, *, keep_logits: bool = False) -> StepOutput:
        time.sleep(0.005)  # a step takes time: texts asked for meanwhile join the next one
        self.widths.append(len(self.active))
        output = StepOutput()
        for request_id, tokens in list(self.active.items()):
            tokens.append(len(tokens))
            output.tokens[request_id] = tokens[-1]
            if len(tokens) >= self.budgets[request_id]:
                del self.active[request_id]
                output.finished.append(FinishedRequest(request_id, tokens, FinishReason.BUDGET))
        return output

    def cancel(self, request_id: int) -> FinishedRequest:
        return FinishedRequest(request_id, self.active.pop(request_id), FinishReason.CANCELLED)


@dataclass
class PieceStream:
    seconds_per_token: float
    first_tokens: int = 5
    made: int = 0
    pieces: list[int] = field(default_factory=list)
    finished: bool = False

    def wants_piece(self, token_count: int, finished: bool) -> bool:
        if self.finished:
            return False
        return finished or token_count - self.made >= self.first_tokens

    @property
    def done(self) -> bool:
        return self.finished


class DoubleBackend:
    """A batched backend whose audio is silence of the right length."""

    name = "double"
    sample_rate = RATE

    def __init__(self, _config: EngineConfig, _device: str) -> None:
        self.decoder: CountingDecoder | None = None
        self.lock = threading.Lock()
        self.seconds_per_token = 0.04

    loaded = True

    def check_available(self) -> None: ...
    def load(self) -> None: ...
    def unload(self) -> None: ...
    def make_conditionals(self, reference_wav: Path, exaggeration: float) -> Any:
        return {}

    def save_conditionals(self, conditionals: Any, path: Path) -> None:
        path.write_bytes(b"conditionals")

    def load_conditionals(self, path: Path) -> Any:
        if path.read_bytes() != b"conditionals":
            raise ValueError("broken conditionals")
        return {}

    def generate(
        self, conditionals: Any, text: str, params: SpeechParams, token: CancelToken
    ) -> np.ndarray:
        raise AssertionError("the batched path never calls generate")

    def speech_decoder(self, max_requests: int, max_length: int) -> CountingDecoder:
        self.decoder = CountingDecoder(max_requests)
        return self.decoder

    def decode_request(
        self, conditionals: Any, text: str, params: SpeechParams, *, seed: int, budget: int
    ) -> DecodeRequest:
        return DecodeRequest(None, None, DecodeParams(seed=seed, max_new_tokens=TOKENS))

    def audio_stream(
        self, conditionals: Any, params: SpeechParams, *, seed: int, first_tokens: int
    ) -> PieceStream:
        return PieceStream(self.seconds_per_token)

    def vocode(self, jobs: Sequence[VocodeJob]) -> list[np.ndarray]:
        out = []
        for stream, tokens, finished in jobs:
            assert isinstance(stream, PieceStream)
            new = len(tokens) - stream.made
            stream.made = len(tokens)
            stream.pieces.append(new)
            stream.finished = finished
            out.append(np.zeros(int(new * stream.seconds_per_token * RATE), np.float32))
        return out

    def speech_tokens(self, tokens: Sequence[int], finished: bool) -> list[int]:
        return list(tokens)

    def watermark(self, samples: np.ndarray) -> np.ndarray:
        return samples


@pytest.fixture
async def engine(tmp_path: Path) -> Any:
    backends: list[DoubleBackend] = []

    def factory(config: EngineConfig, device: str) -> DoubleBackend:
        backends.append(DoubleBackend(config, device))
        return backends[-1]

    config = EngineConfig(data_dir=tmp_path, device="cpu", max_speech_batch=3)
    parrot = Engine(config, backend_factory=factory)
    await parrot.check_model_available()
    yield parrot, backends[0]
    await parrot.shutdown()


def profile_in(folder: Path, content: bytes = b"conditionals") -> VoiceProfile:
    folder.mkdir()
    profile = VoiceProfile.at(folder, "double")
    profile.conditionals.write_bytes(content)
    return profile


async def test_a_listener_with_audio_enough_gets_later_sentences_whole(
    engine: Any, tmp_path: Path
) -> None:
    parrot, backend = engine
    backend.seconds_per_token = 1.0  # the first sentence alone is 30 s of audio
    chunks = [c async for c in parrot.speak(profile_in(tmp_path / "v"), "One. Two.")]
    first = [c for c in chunks if c.index == 0]
    second = [c for c in chunks if c.index == 1]
    assert len(first) > 1  # nothing was waiting: the first sentence streamed in pieces
    assert len(second) == 1 and second[0].ends_piece  # 30 s ahead: made once, whole


async def test_texts_share_steps_and_a_broken_voice_fails_alone(
    engine: Any, tmp_path: Path
) -> None:
    import asyncio

    parrot, backend = engine
    good = [profile_in(tmp_path / f"v{n}") for n in range(2)]
    broken = profile_in(tmp_path / "broken", b"garbage")

    async def say(profile: VoiceProfile) -> int:
        return len([c async for c in parrot.speak(profile, "Hello. Bye.")])

    results = await asyncio.gather(*(say(p) for p in [*good, broken]), return_exceptions=True)
    assert isinstance(results[2], ValueError)
    assert all(isinstance(count, int) and count >= 2 for count in results[:2])
    assert backend.decoder is not None and max(backend.decoder.widths) == 2
