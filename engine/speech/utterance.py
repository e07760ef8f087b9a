"""One text being spoken through the batched engine, as both threads see it.

The event loop creates an :class:`Utterance` and reads its chunks; the executor's worker
thread decodes it one :class:`Sentence` (text piece) at a time and hands chunks over
with ``call_soon_threadsafe``. Cancelling is a flag the worker reads between steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.speech.chunks import ChunkQueue, SpeechChunk
from engine.tts.backend import AudioStream
from engine.tts.params import SpeechParams
from engine.tts.profile import VoiceProfile

SEED_SPACE = 2**63


class Utterance:
    """A text's pieces, its parameters and seed, and the queue its audio arrives in."""

    def __init__(
        self,
        profile: VoiceProfile,
        pieces: list[str],
        params: SpeechParams,
        *,
        seed: int,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.profile = profile
        self.pieces = pieces
        self.params = params
        self.seed = seed
        self.next_piece = 0
        """The next text piece to decode (worker thread)."""
        self.chunks: ChunkQueue = asyncio.Queue()
        self._loop = loop
        self._cancelled = threading.Event()
        self._closed = False
        self._delivered_seconds = 0.0
        self._first_delivery: float | None = None

    # event loop ---------------------------------------------------------------------------
    def cancel(self) -> None:
        """The listener went away (a skip, a stop, a leave): decoding stops at the next step."""
        self._cancelled.set()

    # worker thread -------------------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def piece_seed(self, index: int) -> int:
        """Piece ``i`` draws from ``seed + i``: the whole text is reproducible."""
        return (self.seed + index) % SEED_SPACE

    def deliver(self, item: SpeechChunk | BaseException | None) -> None:
        """Hand a chunk, the error that ended it, or its end (None) to the event loop."""
        if self._closed:
            return
        if item is None or isinstance(item, BaseException):
            self._closed = True
        else:
            self._first_delivery = self._first_delivery or time.monotonic()
            self._delivered_seconds += item.duration
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody listens
            self._loop.call_soon_threadsafe(self.chunks.put_nowait, item)

    def lead(self) -> float:
        """Seconds of audio handed over and not yet heard, if playback began with the
        first chunk and went on without pause (worker thread)."""
        if self._first_delivery is None:
            return 0.0
        return self._delivered_seconds - (time.monotonic() - self._first_delivery)

    @property
    def closed(self) -> bool:
        """Its end or its error has been delivered (worker thread)."""
        return self._closed


@dataclass(slots=True)
class Sentence:
    """One text piece of an utterance while the decoder produces its speech tokens."""

    utterance: Utterance
    index: int
    text: str
    stream: AudioStream
    conditionals: Any
    tokens: list[int] = field(default_factory=list)
    finished: bool = False
    """The decoder has produced its last token."""

    def chunk(self, samples: np.ndarray, sample_rate: int, *, last: bool) -> SpeechChunk:
        return SpeechChunk(self.index, self.text, samples, sample_rate, ends_piece=last)
