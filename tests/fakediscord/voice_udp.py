"""The fake voice server's UDP side: IP discovery, then decrypt and decode every RTP packet.

It reads its socket on a thread of its own, so an arrival time is when the packet reached
the socket, not when the (shared) event loop got round to it.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from dataclasses import dataclass

from discord.opus import Decoder, OpusError

from tests.fakediscord import rtp
from tests.fakediscord.voice_session import ReceivedPacket, VoiceSession

HOST = "127.0.0.1"
_MAX_DATAGRAM = 4096
_POLL_S = 0.1
DISCOVERY_ROUND_TRIP_S = 0.05
"""How long the IP discovery answer takes, as over a network. discord.py 2.7.1 sends the
request before it listens for the answer; on a reconnect its socket reader is already
waiting on the socket, so an answer faster than that gap is read and dropped, and the
handshake hangs. Loopback answered within it when the cores were busy."""


@dataclass
class _Stream:
    """One ssrc handed out by the voice gateway; ``key`` arrives with the session description."""

    session: VoiceSession
    key: bytes | None = None
    decoder: Decoder | None = None


class UdpVoiceReceiver:
    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((HOST, 0))
        self._streams: dict[int, _Stream] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-voice-udp", daemon=True)
        self.discoveries = 0
        self.lose_discoveries = 0
        """How many of the next IP discovery requests go unanswered."""
        self.stray_packets = 0
        """Packets whose ssrc the voice gateway never handed out."""

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self._socket.close()

    def register(self, ssrc: int, session: VoiceSession) -> None:
        with self._lock:
            self._streams[ssrc] = _Stream(session)

    def set_key(self, ssrc: int, key: bytes) -> None:
        with self._lock:
            self._streams[ssrc].key = key

    # receiving ----------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            readable, _, _ = select.select([self._socket], [], [], _POLL_S)
            if not readable:
                continue
            try:
                packet, sender = self._socket.recvfrom(_MAX_DATAGRAM)
            except OSError:
                continue
            arrival = time.perf_counter()
            if rtp.is_discovery_request(packet):
                self._answer_discovery(packet, sender)
            else:
                self._receive_rtp(packet, arrival)

    def _answer_discovery(self, packet: bytes, sender: tuple[str, int]) -> None:
        self.discoveries += 1
        if self.lose_discoveries > 0:
            self.lose_discoveries -= 1  # lost on the way, as UDP may
            return
        reply = rtp.discovery_response(rtp.discovery_ssrc(packet), sender[0], sender[1])
        answer = threading.Timer(DISCOVERY_ROUND_TRIP_S, self._send, (reply, sender))
        answer.daemon = True
        answer.start()

    def _send(self, reply: bytes, to: tuple[str, int]) -> None:
        with contextlib.suppress(OSError):  # the fake stopped meanwhile
            self._socket.sendto(reply, to)

    def _receive_rtp(self, packet: bytes, arrival: float) -> None:
        try:
            ssrc = rtp.parse_header(packet).ssrc
        except rtp.TransportError:
            self.stray_packets += 1
            return
        with self._lock:
            stream = self._streams.get(ssrc)
        if stream is None:
            self.stray_packets += 1
            return
        if stream.key is None:
            stream.session.errors.append(f"ssrc {ssrc}: audio before the session description")
            return
        try:
            header, opus = rtp.decrypt_xchacha_rtpsize(packet, stream.key)
            if header.payload_type != rtp.OPUS_PAYLOAD_TYPE:
                raise rtp.TransportError(f"payload type {header.payload_type:#x}, not Opus")
            if stream.decoder is None:
                stream.decoder = Decoder()
            pcm = stream.decoder.decode(opus, fec=False)
        except (rtp.TransportError, OpusError) as error:
            stream.session.errors.append(f"ssrc {ssrc}: {error}")
            return
        stream.session.packets.append(
            ReceivedPacket(arrival, header.sequence, header.timestamp, ssrc, opus, pcm)
        )
