"""Speech on the executor: the TTS model's slot, voices' conditionals, and the serial path
(one sentence after another through the backend's own generation).

:class:`SpeechWorker` is built once the executor has started; its ``*_job`` methods run
on the worker thread, :meth:`SpeechWorker.speak` on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

import numpy as np

from engine.executor import CancelToken, GpuExecutor, Priority
from engine.speech.chunks import ChunkQueue, SpeechChunk, next_chunk
from engine.tts.backend import TTSBackend
from engine.tts.errors import VoiceNotEnrolledError
from engine.tts.params import SpeechParams
from engine.tts.postprocess import trim_trailing_noise
from engine.tts.profile import VoiceProfile


class SpeechWorker:
    """The TTS backend in its executor slot, with a small cache of loaded conditionals."""

    def __init__(
        self, executor: GpuExecutor, backend: TTSBackend, *, conditionals_cache_size: int = 16
    ) -> None:
        self.executor = executor
        self.backend = backend
        self._conditionals: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self._cache_size = conditionals_cache_size
        self._unload_hooks: list[Callable[[], None]] = []

        def load() -> TTSBackend:
            backend.load()
            return backend

        def unload(value: TTSBackend) -> None:
            self._conditionals.clear()
            for hook in self._unload_hooks:
                hook()
            value.unload()

        self._slot = executor.slot(backend.name, load, unload)

    def on_unload(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` on the worker thread before the model is unloaded."""
        self._unload_hooks.append(hook)

    # worker thread -------------------------------------------------------------------------
    def conditionals(self, profile: VoiceProfile) -> Any:
        """The voice's conditionals for the loaded model, from a small cache."""
        return self._load_conditionals(self.loaded_backend(), profile.conditionals)

    def loaded_backend(self) -> TTSBackend:
        """The backend with its weights loaded (worker thread)."""
        loaded: TTSBackend = self._slot.get()
        return loaded

    def _load_conditionals(self, backend: TTSBackend, path: Path) -> Any:
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            raise VoiceNotEnrolledError(
                f"this voice has no conditionals for {backend.name} yet; enrol it again"
            ) from None
        key = (str(path), stamp)
        if key in self._conditionals:
            self._conditionals.move_to_end(key)
            return self._conditionals[key]
        value = backend.load_conditionals(path)
        self._conditionals[key] = value
        while len(self._conditionals) > self._cache_size:
            self._conditionals.popitem(last=False)
        return value

    def make_profile_job(
        self, folder: Path, reference: Path, seconds: float, exaggeration: float, token: CancelToken
    ) -> VoiceProfile:
        backend = self.loaded_backend()
        token.raise_if_cancelled()
        conditionals = backend.make_conditionals(reference, exaggeration)
        profile = VoiceProfile.at(folder, backend.name)
        backend.save_conditionals(conditionals, profile.conditionals)
        return VoiceProfile(folder, backend.name, profile.conditionals, reference, seconds)

    def generate_job(
        self, profile: VoiceProfile, text: str, params: SpeechParams, token: CancelToken
    ) -> np.ndarray:
        backend = self.loaded_backend()
        conditionals = self._load_conditionals(backend, profile.conditionals)
        token.raise_if_cancelled()
        samples = backend.generate(conditionals, text, params, token)
        return trim_trailing_noise(samples, backend.sample_rate)

    # event loop ----------------------------------------------------------------------------
    async def speak(
        self, profile: VoiceProfile, pieces: list[str], params: SpeechParams
    ) -> AsyncGenerator[SpeechChunk, None]:
        """One chunk per piece, generated ahead of the consumer (at most two waiting).

        Each chunk is its own executor job, so other work can run between chunks; with a
        seed, chunk ``i`` uses ``seed + i`` so the whole text is reproducible.
        """
        sample_rate = self.backend.sample_rate
        ready: ChunkQueue = asyncio.Queue(maxsize=2)

        async def produce() -> None:
            try:
                for index, piece in enumerate(pieces):
                    seed = None if params.seed is None else params.seed + index
                    samples = await self.executor.run(
                        functools.partial(
                            self.generate_job, profile, piece, params.with_seed(seed)
                        ),
                        priority=Priority.SPEECH,
                        label=f"speech chunk {index}",
                    )
                    await ready.put(SpeechChunk(index, piece, samples, sample_rate))
                await ready.put(None)
            except asyncio.CancelledError:
                raise
            except BaseException as error:
                await ready.put(error)

        producer = asyncio.create_task(produce())
        try:
            while (chunk := await next_chunk(ready)) is not None:
                yield chunk
        finally:
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer
