"""What the fake voice server heard from the bot in one guild, across reconnects.

Packets are appended by the UDP receiver thread and read by tests on the event loop; lists
are only ever appended to, so a reader sees a consistent prefix.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from discord.opus import OPUS_SILENCE

SAMPLE_RATE = 48_000
CHANNELS = 2
FRAME_MS = 20
_POLL_S = 0.005


@dataclass(frozen=True)
class ReceivedPacket:
    arrival: float
    """``time.perf_counter()`` when the fake's UDP socket received it."""
    sequence: int
    timestamp: int
    ssrc: int
    opus: bytes = field(repr=False)
    pcm: bytes = field(repr=False)
    """The decoded frame: s16le, 48 kHz, interleaved stereo (3840 bytes for 20 ms)."""

    @property
    def silence(self) -> bool:
        """One of the Opus silence frames discord.py sends when playback stops or pauses."""
        return self.opus == OPUS_SILENCE


@dataclass(frozen=True)
class SpeakingEvent:
    at: float
    """``time.perf_counter()`` when the voice gateway received it."""
    speaking: int
    """discord.SpeakingState flags: 0 none, 1 voice, 2 soundshare, 4 priority."""
    ssrc: int


@dataclass
class VoiceConnectionRecord:
    """One voice websocket the bot opened: identified (new ssrc and key) or resumed."""

    ssrc: int
    resumed: bool
    mode: str | None = None
    close_code: int | None = None
    """The code the fake closed it with (None: closed by the bot, or still open)."""


@dataclass
class VoiceSession:
    guild_id: int
    packets: list[ReceivedPacket] = field(default_factory=list)
    """Every decrypted packet in arrival order, silence frames included."""
    speaking: list[SpeakingEvent] = field(default_factory=list)
    connections: list[VoiceConnectionRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Packets with this guild's ssrc that failed to decrypt or decode (expected: none)."""

    # queries -------------------------------------------------------------------------
    @property
    def voiced_packets(self) -> list[ReceivedPacket]:
        """The packets that carry audio: all but discord.py's end-of-playback silence frames."""
        return [packet for packet in list(self.packets) if not packet.silence]

    def audio(
        self, *, include_silence: bool = False, mono: bool = False
    ) -> npt.NDArray[np.float32]:
        """The decoded audio as float32 in [-1, 1] at 48 kHz, frames in arrival order.

        Shape ``(samples, 2)`` (stereo, as Discord carries it), or ``(samples,)`` with
        ``mono=True`` (the mean of both channels). Frames are concatenated as they arrived:
        nothing is inserted for gaps, so a pause or a reconnect does not show as silence.
        """
        chosen = self.packets if include_silence else self.voiced_packets
        raw = b"".join(packet.pcm for packet in list(chosen))
        stereo = np.frombuffer(raw, dtype="<i2").reshape(-1, CHANNELS).astype(np.float32) / 32768
        return stereo.mean(axis=1) if mono else stereo

    def gaps_ms(self, *, include_silence: bool = False) -> list[float]:
        """Milliseconds between the arrivals of consecutive (voiced) packets: 20 when paced
        perfectly. Pauses between separate playbacks count as gaps too."""
        chosen = self.packets if include_silence else self.voiced_packets
        times = [packet.arrival for packet in chosen]
        return [(later - earlier) * 1000 for earlier, later in itertools.pairwise(times)]

    @property
    def ssrcs(self) -> list[int]:
        """The ssrcs seen in packets, in order of first appearance (one per voice session)."""
        return list(dict.fromkeys(packet.ssrc for packet in list(self.packets)))

    # waiting -------------------------------------------------------------------------
    async def wait_for_packets(self, count: int, *, timeout: float = 10.0) -> None:
        """Wait until ``count`` voiced packets have arrived in total."""
        await self._wait(
            lambda: len(self.voiced_packets) >= count,
            timeout,
            lambda: f"{count} voiced packets (got {len(self.voiced_packets)})",
        )

    async def wait_for_silence(self, *, frames: int = 5, timeout: float = 10.0) -> None:
        """Wait until playback ended: ``frames`` silence frames after the last voiced one."""

        def ended() -> bool:
            packets = list(self.packets)
            voiced = [index for index, packet in enumerate(packets) if not packet.silence]
            return bool(voiced) and len(packets) - 1 - voiced[-1] >= frames

        await self._wait(ended, timeout, lambda: f"{frames} silence frames after audio")

    async def wait_for(
        self, predicate: Callable[[], bool], *, timeout: float = 10.0, what: str = "a condition"
    ) -> None:
        """Wait until ``predicate()`` holds; it is polled every few milliseconds."""
        await self._wait(predicate, timeout, lambda: what)

    async def _wait(
        self, predicate: Callable[[], bool], timeout: float, describe: Callable[[], str]
    ) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"fake voice server, guild {self.guild_id}: waited {timeout:.0f} s for "
                    f"{describe()}; errors: {self.errors[-3:] or 'none'}"
                )
            await asyncio.sleep(_POLL_S)
