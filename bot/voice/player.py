"""One speech queue per server: synthesise sentence by sentence and play as it comes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import discord

from bot.errors import describe_failure
from bot.voice.pcm import DiscordPcmStream
from bot.voice.reconnect import NotInVoiceError, connected_voice
from bot.voice.source import StreamingSource
from engine.api import ParrotError, SpeechParams, VoiceEngine, VoiceProfile

log = logging.getLogger(__name__)

Notify = Callable[[str], Awaitable[None]]
CUT_OFF = "My voice connection dropped while I was saying that, so the rest was not heard."


class QueueFullError(ParrotError):
    """The server's speech queue is at its bound."""


@dataclass(slots=True)
class Utterance:
    """One thing to say: the text, whose voice, and who asked."""

    text: str
    voice_id: str
    voice_name: str
    profile: VoiceProfile
    requester_id: int
    params: SpeechParams = field(default_factory=SpeechParams)
    notify: Notify | None = None
    """Tells the requester when it fails after it was queued."""
    on_played: Callable[[Utterance, PlaybackReport], Awaitable[None]] | None = None


Admission = Callable[["Utterance", int], Awaitable[str | None]]
"""Why an utterance may not be spoken in a server (id) now, its voice hidden or made private
since it was queued (:func:`bot.voices.standing.why_not_now`), or None."""


@dataclass(frozen=True, slots=True)
class PlaybackReport:
    chunks: int
    audio_seconds: float
    elapsed_seconds: float
    first_audio_seconds: float
    underruns: int


class GuildPlayer:
    """Plays a server's queue in its voice channel, one utterance at a time.

    While one sentence plays the next is being synthesised: the engine generates one
    chunk ahead, and each chunk becomes 20 ms frames in a :class:`StreamingSource`.
    The player leaves the channel after ``idle_timeout`` seconds without work. A failure
    after queueing is told to the requester in the taxonomy's words (``describe_failure``).
    ``admit`` is asked before each utterance is spoken, and by :meth:`recheck_voice` when a
    voice's use changes: what may no longer be said is dropped and its requester told why.
    """

    def __init__(
        self,
        guild: discord.Guild,
        engine: VoiceEngine,
        *,
        max_queue: int,
        idle_timeout: float,
        on_idle_leave: Callable[[GuildPlayer], Awaitable[None]] | None = None,
        reconnect_grace: float = 20.0,
        connect_timeout: float = 20.0,
        admit: Admission | None = None,
    ) -> None:
        self.guild = guild
        self._admit = admit
        self.reconnect_grace = reconnect_grace
        """How long a reconnect by discord.py is waited for before joining afresh."""
        self.connect_timeout = connect_timeout
        self.engine = engine
        self.max_queue = max_queue
        self.idle_timeout = idle_timeout
        self._on_idle_leave = on_idle_leave
        self._queue: asyncio.Queue[Utterance] = asyncio.Queue()
        self.current: Utterance | None = None
        self._withdrawn: Utterance | None = None
        """The current utterance, skipped or refused while being admitted (not yet playing)."""
        self._current_task: asyncio.Task[PlaybackReport | None] | None = None
        self._runner = asyncio.create_task(self._run(), name=f"parrot-player-{guild.id}")

    # queue -------------------------------------------------------------------------------
    def enqueue(self, utterance: Utterance) -> int:
        """Add to the queue; returns how many utterances are ahead of it (0: next)."""
        if self._queue.qsize() >= self.max_queue:
            raise QueueFullError(
                f"the speech queue is full ({self.max_queue} waiting); wait a moment or use /skip"
            )
        ahead = self._queue.qsize() + (1 if self.current is not None else 0)
        self._queue.put_nowait(utterance)
        return ahead

    @property
    def pending(self) -> list[Utterance]:
        return list(self._queue._queue)  # type: ignore[attr-defined]  # Queue's own deque

    @property
    def busy(self) -> bool:
        return self.current is not None or not self._queue.empty()

    def skip(self) -> bool:
        """Stop what is playing now; the queue moves on. False if nothing was playing."""
        if self.current is not None and self._current_task is None:
            self._withdrawn = self.current  # still being admitted: it will not start
            return True
        if self._current_task is None or self._current_task.done():
            return False
        self._current_task.cancel()
        return True

    def stop(self) -> int:
        """Empty the queue and stop playing; returns how many queued items were dropped."""
        dropped = 0
        while not self._queue.empty():
            self._queue.get_nowait()
            dropped += 1
        self.skip()
        return dropped

    async def recheck_voice(self, voice_id: str) -> int:
        """Drop the queued utterances with this voice that may no longer be spoken here and
        stop the one playing if it is such; each requester is told why. Returns how many."""
        if self._admit is None:
            return 0
        refused: list[tuple[Utterance, str]] = []
        current = self.current
        for utterance in [*([current] if current is not None else []), *self.pending]:
            if utterance.voice_id == voice_id:
                why = await self._admit(utterance, self.guild.id)
                if why is not None:
                    refused.append((utterance, why))
        dropped = {id(utterance) for utterance, _ in refused}
        kept = [utterance for utterance in self.pending if id(utterance) not in dropped]
        while not self._queue.empty():
            self._queue.get_nowait()
        for utterance in kept:
            self._queue.put_nowait(utterance)
        if self.current is not None and id(self.current) in dropped:
            self.skip()  # the one playing, or one the loop took meanwhile and is admitting
        for utterance, why in refused:
            await self._tell(utterance, why)
        return len(refused)

    async def close(self) -> None:
        self.stop()
        self._runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._runner

    # the loop ----------------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            try:
                utterance = await asyncio.wait_for(self._queue.get(), timeout=self.idle_timeout)
            except TimeoutError:
                voice = self.guild.voice_client
                if isinstance(voice, discord.VoiceClient) and not voice.is_playing():
                    log.info("leaving voice in guild %s after idling", self.guild.id)
                    if self._on_idle_leave is not None:
                        await self._on_idle_leave(self)
                        return
                continue
            self.current = utterance
            if self._admit is not None:
                refusal = await self._admit(utterance, self.guild.id)
                if self._withdrawn is utterance:  # skipped or refused meanwhile: told
                    self.current = self._withdrawn = None
                    continue
                if refusal is not None:
                    self.current = None
                    await self._tell(utterance, refusal)
                    continue
            self._current_task = asyncio.create_task(self._play(utterance))
            try:
                report = await self._current_task
            except asyncio.CancelledError:
                if self._current_task.cancelled() and not self._runner_cancelling():
                    continue  # a skip: carry on with the queue
                raise
            except Exception as error:
                await self._report_failure(utterance, error)
            else:
                if report is not None and utterance.on_played is not None:
                    await utterance.on_played(utterance, report)
            finally:
                self.current = self._withdrawn = None
                self._current_task = None

    def _runner_cancelling(self) -> bool:
        task = asyncio.current_task()
        return task is not None and task.cancelling() > 0

    async def _report_failure(self, utterance: Utterance, error: Exception) -> None:
        message = describe_failure(error)
        if message is None:
            log.error("speech in guild %s failed", self.guild.id, exc_info=error)
            message = "I could not say that because of an error on my side."
        await self._tell(utterance, message)

    async def _tell(self, utterance: Utterance, message: str) -> None:
        if utterance.notify is not None:
            with contextlib.suppress(discord.HTTPException):
                await utterance.notify(message)

    async def _play(self, utterance: Utterance) -> PlaybackReport | None:
        voice = await connected_voice(
            self.guild, grace=self.reconnect_grace, connect_timeout=self.connect_timeout
        )
        loop = asyncio.get_running_loop()
        finished = asyncio.Event()
        playback_error: list[BaseException] = []

        def after(error: Exception | None) -> None:  # discord.py's player thread
            if error is not None:
                playback_error.append(error)
            loop.call_soon_threadsafe(finished.set)

        source = StreamingSource()
        started = time.perf_counter()
        first_audio = 0.0
        chunks = 0
        audio_seconds = 0.0
        pcm: DiscordPcmStream | None = None
        try:
            stream = self.engine.speak(utterance.profile, utterance.text, utterance.params)
            async with contextlib.aclosing(stream):
                async for chunk in stream:
                    pcm = pcm or DiscordPcmStream(chunk.sample_rate)
                    source.feed(await asyncio.to_thread(pcm.feed, chunk.samples))
                    chunks += 1
                    audio_seconds += chunk.duration
                    if chunks == 1:
                        first_audio = time.perf_counter() - started
                        voice.play(source, after=after)
                    if finished.is_set():  # cut off (the source never ends by itself)
                        break
            if pcm is not None and not finished.is_set():
                source.feed(await asyncio.to_thread(pcm.finish))
            source.finish()
            if chunks:
                await finished.wait()
        finally:
            if chunks and not finished.is_set():
                voice.stop()  # a skip or a failure mid-way: the player thread lets go
        if playback_error:
            raise playback_error[0]
        if chunks and not source.played_to_end:  # discord.py gave up waiting for a reconnect
            raise NotInVoiceError(CUT_OFF)
        return PlaybackReport(
            chunks, audio_seconds, time.perf_counter() - started, first_audio, source.underruns
        )
