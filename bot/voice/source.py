"""An AudioSource fed by the event loop and drained by discord.py's player thread."""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterable

import discord

from bot.voice.pcm import FRAME_BYTES, FRAME_MS, SILENCE


class StreamingSource(discord.AudioSource):
    """Plays frames as they arrive; ``read()`` never waits and never computes.

    discord.py calls ``read()`` every 20 ms on its player thread. Frames are appended by
    the event loop as each sentence is synthesised; when the next sentence is late the
    source plays silence (an *underrun*) instead of ending, and it ends only after
    :meth:`finish` once every frame has been played. ``deque`` appends and pops are
    atomic, so no lock is needed between the two threads.
    """

    def __init__(self) -> None:
        self._frames: collections.deque[bytes] = collections.deque()
        self._finished = threading.Event()
        self.frames_played = 0
        self.underruns = 0
        self.played_to_end = False
        """Whether every frame was played (False: the player stopped or gave up first)."""
        self._cleaned = False

    # event-loop side --------------------------------------------------------------------
    def feed(self, frames: Iterable[bytes]) -> None:
        for frame in frames:
            if len(frame) != FRAME_BYTES:
                raise ValueError(f"frames must be exactly {FRAME_BYTES} bytes")
            self._frames.append(frame)

    def finish(self) -> None:
        """No more frames will come: end once the buffer is empty."""
        self._finished.set()

    @property
    def buffered_seconds(self) -> float:
        return len(self._frames) * FRAME_MS / 1000

    @property
    def played_seconds(self) -> float:
        return self.frames_played * FRAME_MS / 1000

    # player-thread side -----------------------------------------------------------------
    def read(self) -> bytes:
        try:
            frame = self._frames.popleft()
        except IndexError:
            if not self._finished.is_set():
                self.underruns += 1
                return SILENCE
            try:  # frames fed just before finish() was called
                frame = self._frames.popleft()
            except IndexError:
                self.played_to_end = not self._cleaned
                return b""
        self.frames_played += 1
        return frame

    def is_opus(self) -> bool:
        return False

    def cleanup(self) -> None:
        self._cleaned = True
        self._frames.clear()
        self._finished.set()
