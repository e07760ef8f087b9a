"""Engine.speak as a stream: closing it (a skip) stops the chunks nobody will hear.

The backend here is a test double that only counts what it is asked to say, so the test
checks the engine's streaming and executor plumbing, not a model.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from engine.api import Engine, EngineConfig, SpeechParams, VoiceProfile
from engine.executor import CancelToken

SAMPLE_RATE = 24_000


class CountingBackend:
    """Says every text as 0.1 s of silence after a short pause, and notes what it said."""

    name = "counting"
    sample_rate = SAMPLE_RATE

    def __init__(self, _config: EngineConfig, _device: str) -> None:
        self.said: list[str] = []
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return True

    def check_available(self) -> None:
        pass

    def load(self) -> None:
        pass

    def unload(self) -> None:
        pass

    def make_conditionals(self, reference_wav: Path, exaggeration: float) -> Any:
        return {}

    def save_conditionals(self, conditionals: Any, path: Path) -> None:
        path.write_bytes(b"conditionals")

    def load_conditionals(self, path: Path) -> Any:
        return {}

    def generate(
        self, conditionals: Any, text: str, params: SpeechParams, token: CancelToken
    ) -> np.ndarray:
        time.sleep(0.05)
        with self._lock:
            self.said.append(text)
        return np.zeros(SAMPLE_RATE // 10, dtype=np.float32)


async def test_closing_the_stream_stops_making_the_rest(tmp_path: Path) -> None:
    backends: list[CountingBackend] = []

    def factory(config: EngineConfig, device: str) -> CountingBackend:
        backends.append(CountingBackend(config, device))
        return backends[-1]

    engine = Engine(EngineConfig(data_dir=tmp_path, device="cpu"), backend_factory=factory)
    folder = tmp_path / "voice"
    folder.mkdir()
    profile = VoiceProfile.at(folder, "counting")
    profile.conditionals.write_bytes(b"conditionals")
    sentences = [f"Sentence number {n}." for n in range(1, 9)]
    try:
        heard: list[str] = []

        async def play() -> None:  # like the player: the stream closes when it is skipped
            stream = engine.speak(profile, " ".join(sentences), SpeechParams())
            async with contextlib.aclosing(stream):
                async for chunk in stream:
                    heard.append(chunk.text)

        playing = asyncio.create_task(play())
        while not heard:
            await asyncio.sleep(0.01)
        playing.cancel()  # the skip; the task (and its traceback) stays referenced here
        with contextlib.suppress(asyncio.CancelledError):
            await playing
        said_when_skipped = len(backends[0].said)
        await asyncio.sleep(0.5)  # ten chunks' worth of time, were anything still queued
        assert len(backends[0].said) <= said_when_skipped + 1  # one may have been running
        assert len(backends[0].said) < len(sentences)
        assert playing.cancelled()
    finally:
        await engine.shutdown()
