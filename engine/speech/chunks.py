"""What speech comes out as, and the text pieces it is made in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import numpy as np

from engine.audio import Audio, crossfade_join
from engine.text import split_for_speech
from engine.tts.errors import NothingToSayError, VoiceNotEnrolledError
from engine.tts.profile import VoiceProfile

CHUNK_MAX_CHARS = 300
FIRST_CHUNK_MAX_CHARS = 160
"""A short first chunk makes the first words come sooner."""


@dataclass(frozen=True, slots=True)
class SpeechChunk:
    """Audio of one text piece (a sentence or clause group), whole or in part.

    The batched engine streams a piece in several chunks that join without a seam;
    the serial one gives each piece as one chunk.
    """

    index: int
    """The text piece this audio belongs to (0 for the first sentence group)."""
    text: str
    samples: np.ndarray
    sample_rate: int
    ends_piece: bool = True
    """Whether this is the last audio of its text piece; the next chunk starts a new one."""

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def speech_pieces(text: str) -> list[str]:
    """The chunks ``text`` is spoken in."""
    return split_for_speech(
        text, max_chars=CHUNK_MAX_CHARS, first_chunk_max_chars=FIRST_CHUNK_MAX_CHARS
    )


ChunkQueue = asyncio.Queue[SpeechChunk | BaseException | None]
"""Where a producer hands over chunks, the error that ended it, or its end (None)."""


async def next_chunk(queue: ChunkQueue) -> SpeechChunk | None:
    """The next chunk, None at the end; the producer's error is raised here."""
    item = await queue.get()
    if isinstance(item, BaseException):
        raise item
    return item


def pieces_to_speak(profile: VoiceProfile, text: str) -> list[str]:
    """The text's pieces, once the checks every engine makes before speaking have passed."""
    if not profile.exists:
        raise VoiceNotEnrolledError(
            f"voice at {profile.folder} is not enrolled for {profile.backend}"
        )
    pieces = speech_pieces(text)
    if not pieces:
        raise NothingToSayError("there is nothing to say in that text")
    return pieces


async def join_speech(
    chunks: AsyncIterator[SpeechChunk],
    *,
    fade_ms: float,
    on_chunk: Callable[[SpeechChunk, int], None] | None = None,
) -> Audio:
    """A whole speech stream as one clip, text pieces joined with short crossfades;
    ``on_chunk(chunk, pieces_done)`` is called as each text piece's audio completes."""
    pieces: list[np.ndarray] = []
    current: list[np.ndarray] = []
    rate = 0
    async for chunk in chunks:
        rate = chunk.sample_rate
        current.append(chunk.samples)
        if chunk.ends_piece:
            pieces.append(np.concatenate(current))
            current = []
            if on_chunk is not None:
                on_chunk(chunk, len(pieces))
    return Audio(crossfade_join(pieces, rate, fade_ms=fade_ms), rate)
