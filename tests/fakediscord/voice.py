"""A fake Discord voice server on 127.0.0.1: the voice gateway (websocket, v8) and media UDP.

The bot's unmodified ``VoiceClient`` connects here after the main gateway's
VOICE_SERVER_UPDATE: identify → READY (ssrc, UDP address, modes) → IP discovery over UDP →
select protocol → session description (secret key, ``dave_protocol_version`` 0, so no DAVE
session starts) → RTP audio, which :mod:`tests.fakediscord.voice_udp` decrypts and decodes
into a per-guild :class:`VoiceSession`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakediscord.rtp import XCHACHA_RTPSIZE
from tests.fakediscord.voice_session import SpeakingEvent, VoiceConnectionRecord, VoiceSession
from tests.fakediscord.voice_udp import HOST, UdpVoiceReceiver

# Voice gateway opcodes (server → client and client → server).
IDENTIFY, SELECT_PROTOCOL, READY, HEARTBEAT, SESSION_DESCRIPTION, SPEAKING = 0, 1, 2, 3, 4, 5
HEARTBEAT_ACK, RESUME, HELLO, RESUMED = 6, 7, 8, 9

# Close codes Discord's voice gateway uses.
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_SESSION_INVALID = 4006
CLOSE_DISCONNECTED = 4014
"""Kicked, moved, channel deleted: discord.py reconnects only if a new server update follows."""
CLOSE_SERVER_CRASHED = 4015
"""The voice server went away: the client should resume."""
CLOSE_UNKNOWN_MODE = 4016

# Discord offers AES-GCM first; discord.py 2.7.1 cannot do it and must pick xchacha20.
OFFERED_MODES = ("aead_aes256_gcm_rtpsize", XCHACHA_RTPSIZE)
HEARTBEAT_INTERVAL_MS = 13_750
CLOSE_TIMEOUT_S = 1.0
"""How long a server-side close waits for the client's close frame (discord.py may not send one)."""


@dataclass(frozen=True)
class VoiceGrant:
    """What a VOICE_SERVER_UPDATE token admits: this user, this guild, this gateway session."""

    guild_id: int
    user_id: int
    session_id: str


@dataclass
class _Connection:
    socket: web.WebSocketResponse
    session: VoiceSession | None = None
    record: VoiceConnectionRecord | None = None
    key: bytes | None = None
    sequence: int = 0


class FakeVoiceServer:
    def __init__(self) -> None:
        self.udp = UdpVoiceReceiver()
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._sessions: dict[int, VoiceSession] = {}
        self._grants: dict[str, VoiceGrant] = {}
        self._open: dict[int, _Connection] = {}
        """The live, identified connection of each guild."""
        self._last_keys: dict[int, tuple[int, bytes]] = {}
        """Each guild's last (ssrc, key): what a RESUME continues."""
        self._closing: set[asyncio.Task[bool]] = set()
        self.frames: list[dict[str, Any]] = []
        """Every frame clients sent, in order (for debugging and protocol assertions)."""

    @property
    def endpoint(self) -> str:
        """``host:port`` as a VOICE_SERVER_UPDATE carries it (discord.py adds ``wss://``)."""
        return f"{HOST}:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._websocket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        self.udp.start()

    async def stop(self) -> None:
        for connection in list(self._open.values()):
            await connection.socket.close()
        await asyncio.gather(*self._closing, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        self.udp.stop()

    # for the main gateway and tests --------------------------------------------------------
    def session(self, guild_id: int) -> VoiceSession:
        """Everything heard in ``guild_id`` (created empty, so a test can wait on it early)."""
        return self._sessions.setdefault(guild_id, VoiceSession(guild_id))

    def grant(self, guild_id: int, user_id: int, session_id: str) -> str:
        """A fresh token for a VOICE_SERVER_UPDATE."""
        token = secrets.token_hex(8)
        self._grants[token] = VoiceGrant(guild_id, user_id, session_id)
        return token

    def is_connected(self, guild_id: int) -> bool:
        """Whether ``guild_id`` has a voice websocket that got its session description."""
        connection = self._open.get(guild_id)
        return connection is not None and connection.key is not None

    async def close(self, guild_id: int, code: int) -> bool:
        """Close ``guild_id``'s voice websocket from the server side; False if none was open.

        Returns once the close frame is on its way: waiting for the client's answering close
        frame happens in the background (discord.py does not always send one).
        """
        connection = self._open.pop(guild_id, None)
        if connection is None:
            return False
        if connection.record is not None:
            connection.record.close_code = code
        closing = asyncio.create_task(
            connection.socket.close(code=code, message=b"closed by the fake voice server")
        )
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)
        await asyncio.sleep(0)  # let the close frame go out before the caller carries on
        return True

    # the voice gateway ----------------------------------------------------------------------
    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(timeout=CLOSE_TIMEOUT_S)
        await socket.prepare(request)
        connection = _Connection(socket)
        await self._send(connection, HELLO, {"v": 8, "heartbeat_interval": HEARTBEAT_INTERVAL_MS})
        try:
            async for frame in socket:
                if frame.type is WSMsgType.TEXT:
                    await self._handle(connection, json.loads(frame.data))
        finally:
            if (
                connection.session is not None
                and self._open.get(connection.session.guild_id) is connection
            ):
                del self._open[connection.session.guild_id]
        return socket

    async def _send(self, connection: _Connection, op: int, data: Any) -> None:
        connection.sequence += 1
        message = {"op": op, "d": data, "seq": connection.sequence}
        await connection.socket.send_str(json.dumps(message))

    async def _handle(self, connection: _Connection, message: dict[str, Any]) -> None:
        self.frames.append(message)
        op, data = message.get("op"), message.get("d")
        if op == IDENTIFY:
            await self._identify(connection, data)
        elif op == RESUME:
            await self._resume(connection, data)
        elif op == SELECT_PROTOCOL:
            await self._select_protocol(connection, data)
        elif op == HEARTBEAT:
            nonce = data.get("t") if isinstance(data, dict) else data
            await self._send(connection, HEARTBEAT_ACK, {"t": nonce})
        elif op == SPEAKING and connection.session is not None:
            connection.session.speaking.append(
                SpeakingEvent(time.perf_counter(), int(data["speaking"]), int(data["ssrc"]))
            )

    def _admit(self, data: dict[str, Any]) -> VoiceGrant | None:
        grant = self._grants.get(data.get("token", ""))
        if grant is None:
            return None
        if str(grant.guild_id) != data.get("server_id") or grant.session_id != data.get(
            "session_id"
        ):
            return None
        if "user_id" in data and str(grant.user_id) != data["user_id"]:
            return None
        return grant

    async def _take_over(self, connection: _Connection, grant: VoiceGrant) -> VoiceSession:
        """Make ``connection`` the guild's live one; an older one is closed as Discord does."""
        previous = self._open.get(grant.guild_id)
        if previous is not None and previous is not connection:
            await self.close(grant.guild_id, CLOSE_DISCONNECTED)
        self._open[grant.guild_id] = connection
        connection.session = self.session(grant.guild_id)
        return connection.session

    async def _identify(self, connection: _Connection, data: dict[str, Any]) -> None:
        grant = self._admit(data)
        if grant is None:
            await connection.socket.close(code=CLOSE_AUTHENTICATION_FAILED)
            return
        session = await self._take_over(connection, grant)
        ssrc = secrets.randbits(31) + 1
        connection.record = VoiceConnectionRecord(ssrc=ssrc, resumed=False)
        session.connections.append(connection.record)
        self.udp.register(ssrc, session)
        ready = {"ssrc": ssrc, "ip": HOST, "port": self.udp.port, "modes": list(OFFERED_MODES)}
        await self._send(connection, READY, ready)

    async def _resume(self, connection: _Connection, data: dict[str, Any]) -> None:
        grant = self._admit(data)
        last = self._last_keys.get(grant.guild_id) if grant else None
        if grant is None or last is None:
            await connection.socket.close(code=CLOSE_SESSION_INVALID)
            return
        session = await self._take_over(connection, grant)
        ssrc, connection.key = last
        connection.record = VoiceConnectionRecord(ssrc=ssrc, resumed=True, mode=XCHACHA_RTPSIZE)
        session.connections.append(connection.record)
        await self._send(connection, RESUMED, None)

    async def _select_protocol(self, connection: _Connection, data: dict[str, Any]) -> None:
        if connection.record is None or connection.session is None:
            await connection.socket.close(code=CLOSE_SESSION_INVALID)
            return
        mode = data["data"]["mode"]
        if mode != XCHACHA_RTPSIZE:
            connection.session.errors.append(f"client selected unsupported mode {mode!r}")
            await connection.socket.close(code=CLOSE_UNKNOWN_MODE)
            return
        connection.key = secrets.token_bytes(32)
        connection.record.mode = mode
        self.udp.set_key(connection.record.ssrc, connection.key)
        self._last_keys[connection.session.guild_id] = (connection.record.ssrc, connection.key)
        description = {
            "audio_codec": "opus",
            "media_session_id": secrets.token_hex(16),
            "mode": mode,
            "secret_key": list(connection.key),
            "dave_protocol_version": 0,
        }
        await self._send(connection, SESSION_DESCRIPTION, description)
