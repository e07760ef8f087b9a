"""A fake Discord on 127.0.0.1: gateway websocket, REST API and CDN, for the real discord.py.

Point discord.py at it with :meth:`FakeDiscord.install` (``Route.BASE`` and
``DiscordWebSocket.DEFAULT_GATEWAY``); the unmodified ``Bot.start()`` then logs in,
identifies, receives guilds and interactions, and every REST call it makes is
recorded here for tests to assert on.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
import yarl
from aiohttp import BodyPartReader, web

from tests.fakediscord import payloads
from tests.fakediscord.direct_messages import DirectMessages
from tests.fakediscord.interactions import DEFAULT_ATTACHMENT_LIMIT, Interactions
from tests.fakediscord.payloads import snowflake
from tests.fakediscord.rest import RestRoutes
from tests.fakediscord.shards import Shards, ready_payload
from tests.fakediscord.voice import FakeVoiceServer
from tests.fakediscord.voice_session import VoiceSession
from tests.fakediscord.voice_world import ChannelRef, VoiceWorld
from tests.fakediscord.world import FakeGuild, InteractionLog, RecordedRequest

__all__ = [
    "API_PREFIX",
    "DEFAULT_ATTACHMENT_LIMIT",
    "JSON_TYPE",
    "FakeDiscord",
    "FakeGuild",
    "InteractionLog",
    "RecordedRequest",
]

API_PREFIX = "/api/v10"
JSON_TYPE = "application/json"  # exactly: a charset suffix makes discord.py read text


class FakeDiscord(Interactions, DirectMessages):
    """The fake: its lifecycle, gateway, REST and CDN handlers, and the world it serves.

    Members' interactions come from :class:`Interactions`, the bot's DM channels from
    :class:`DirectMessages`.
    """

    def __init__(self) -> None:
        self.application_id = snowflake()
        self.bot_user = payloads.user(self.application_id, "Parrot", bot=True)
        self.owner_user = payloads.user(name="owner")
        self.guilds: dict[int, FakeGuild] = {}
        self.requests: list[RecordedRequest] = []
        self.interactions: dict[str, InteractionLog] = {}
        self.synced_commands: dict[int | None, list[dict[str, Any]]] = {}
        self.channel_messages: dict[int, list[dict[str, Any]]] = {}
        self.dm_channels: dict[int, dict[str, Any]] = {}
        """The bot's direct-message channel with each user, by user id."""
        self.closed_dms: set[int] = set()
        """Users who accept no direct messages from the bot (sending answers 403, 50007)."""
        self.cdn_files: dict[str, tuple[bytes, str | None]] = {}
        self.cdn_downloads: list[str] = []
        self.voice = FakeVoiceServer()
        """The voice gateway and UDP server: ``voice.session(guild_id)`` is what it heard."""
        self.voice_world = VoiceWorld(self)
        self.rest = RestRoutes(self)
        self.session_id = secrets.token_hex(16)
        """The gateway session id; voice states carry it, as Discord's do."""
        self.gateway_ops: dict[
            int, Callable[[web.WebSocketResponse, dict[str, Any]], Awaitable[None]]
        ] = {
            1: self._on_heartbeat,
            2: self._on_identify,
            4: self.voice_world.on_voice_state_request,
        }
        self.identified = asyncio.Event()
        self.shards = Shards()
        self._sockets: list[web.WebSocketResponse] = []
        self._sequence = 0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # lifecycle -----------------------------------------------------------------------
    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/cdn/{key:.*}", self._cdn)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        await self.voice.start()

    async def stop(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        await self.voice.stop()
        if self._runner is not None:
            await self._runner.cleanup()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point discord.py's REST, gateway and voice gateway at this fake for the current test."""
        monkeypatch.setattr(discord.http.Route, "BASE", self.http_url + API_PREFIX)
        monkeypatch.setattr(
            discord.gateway.DiscordWebSocket,
            "DEFAULT_GATEWAY",
            yarl.URL(self.http_url.replace("http", "ws") + "/gateway"),
        )
        # discord.py hard-codes wss:// for the voice gateway. Serving TLS would need a
        # self-signed certificate AND a way to make discord.py's private aiohttp session
        # trust it (patching aiohttp's or ssl's default contexts process-wide). Instead only
        # the scheme of URLs to this fake's voice endpoint is rewritten, one layer below
        # discord.py's voice code: everything else (handshake, heartbeats, compression) runs
        # unmodified, and connections anywhere else are untouched.
        secure_voice_url = f"wss://{self.voice.endpoint}/"
        connect = discord.http.HTTPClient.ws_connect

        async def ws_connect(
            http: discord.http.HTTPClient, url: str, *, compress: int = 0
        ) -> aiohttp.ClientWebSocketResponse:
            if url.startswith(secure_voice_url):
                url = "ws://" + url.removeprefix("wss://")
            return await connect(http, url, compress=compress)

        monkeypatch.setattr(discord.http.HTTPClient, "ws_connect", ws_connect)

    # world building -------------------------------------------------------------------
    def add_guild(self, name: str = "Test Server") -> FakeGuild:
        guild_id = snowflake()
        everyone = payloads.MEMBER_PERMISSIONS
        guild = FakeGuild(
            id=guild_id,
            name=name,
            owner=self.owner_user,
            everyone_permissions=everyone,
            text_channel=payloads.text_channel(guild_id),
            voice_channels=[
                payloads.voice_channel(guild_id, "Voice"),
                payloads.voice_channel(guild_id, "Voice 2", position=2),
            ],
            roles=[payloads.role(guild_id, "@everyone", everyone)],
        )
        guild.members[int(self.owner_user["id"])] = payloads.member(self.owner_user)
        guild.members[self.application_id] = payloads.member(self.bot_user)
        self.guilds[guild_id] = guild
        return guild

    def add_member(self, guild: FakeGuild, name: str, *, permissions: int = 0) -> dict[str, Any]:
        """A member; ``permissions`` are granted through a role of their own."""
        user_payload = payloads.user(name=name)
        roles = []
        if permissions:
            role_id = snowflake()
            guild.roles.append(payloads.role(role_id, f"{name}-role", permissions, 1))
            roles.append(role_id)
        guild.members[int(user_payload["id"])] = payloads.member(user_payload, roles=roles)
        return user_payload

    def member_permissions(self, guild: FakeGuild, user_id: int) -> int:
        if user_id == int(guild.owner["id"]):
            return (1 << 53) - 1
        value = guild.everyone_permissions
        role_ids = {int(r) for r in guild.members[user_id]["roles"]}
        for role_payload in guild.roles:
            if int(role_payload["id"]) in role_ids:
                value |= int(role_payload["permissions"])
        if value & payloads.ADMINISTRATOR:
            return (1 << 53) - 1
        return value

    def add_attachment(
        self, filename: str, data: bytes, content_type: str | None
    ) -> dict[str, Any]:
        """Serve ``data`` from the CDN and return its attachment payload."""
        attachment_id = snowflake()
        key = f"attachments/{attachment_id}/{filename}"
        self.cdn_files[key] = (data, content_type)
        return payloads.attachment(
            attachment_id, filename, len(data), f"{self.http_url}/cdn/{key}", content_type
        )

    # voice and messages ------------------------------------------------------------------
    async def join_voice(
        self, guild: FakeGuild, user_payload: dict[str, Any], channel: ChannelRef = None
    ) -> None:
        """A member enters (or moves to) a voice channel; default: ``guild.voice_channel``."""
        await self.voice_world.join(guild, user_payload, channel)

    async def leave_voice(self, guild: FakeGuild, user_payload: dict[str, Any]) -> None:
        """A member leaves voice; for the bot's own user this is a kick (voice closes 4014)."""
        await self.voice_world.leave(guild, user_payload)

    async def set_voice_permissions(
        self, guild: FakeGuild, *, allow: int = 0, deny: int = 0, channel: ChannelRef = None
    ) -> None:
        """The bot's permission overwrite on a voice channel (e.g. ``deny=payloads.SPEAK``).

        Dispatched as CHANNEL_UPDATE; ``allow=deny=0`` removes it. The fake ignores a join
        without VIEW_CHANNEL and CONNECT, as Discord does; it still records audio without SPEAK.
        """
        await self.voice_world.set_bot_permissions(guild, allow=allow, deny=deny, channel=channel)

    async def drop_voice(self, guild: FakeGuild, *, code: int | None = None) -> None:
        """Take the bot's voice server away.

        By default the voice server fails over, as Discord handles a voice server going
        down: a VOICE_SERVER_UPDATE with a fresh token; discord.py closes the old websocket
        (4014), identifies again on the same UDP socket, and its player resumes.

        With ``code``, the websocket is only closed with that code (e.g. 4015, "voice server
        crashed", or 4009, "session timed out"): see the report on what discord.py 2.7.1 does.
        """
        if code is None:
            await self.voice_world.fail_over(guild)
        elif not await self.voice.close(guild.id, code):
            raise AssertionError(f"the bot has no open voice connection in guild {guild.id}")

    def voice_session(self, guild: FakeGuild) -> VoiceSession:
        """What the fake voice server heard from the bot in ``guild``."""
        return self.voice.session(guild.id)

    async def post_message(
        self,
        guild: FakeGuild,
        user_payload: dict[str, Any],
        content: str,
        *,
        channel: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A member posts ``content`` (default: in ``guild.text_channel``): MESSAGE_CREATE.

        The content is sent whatever intents the bot identified with.
        """
        target = channel or guild.text_channel
        message = payloads.message(
            int(target["id"]),
            user_payload,
            content,
            guild_id=guild.id,
            member_payload=guild.members[int(user_payload["id"])],
        )
        await self.dispatch("MESSAGE_CREATE", message)
        return message

    # gateway ----------------------------------------------------------------------------
    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        for socket in self.shards.sockets_for(list(self._sockets), data):
            self._sequence += 1
            await socket.send_str(json.dumps({"op": 0, "t": event, "s": self._sequence, "d": data}))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        try:
            async for frame in socket:
                message = json.loads(frame.data)
                handler = self.gateway_ops.get(message["op"])
                if handler is not None:
                    await handler(socket, message.get("d"))
        finally:
            self._sockets.remove(socket)
            self.shards.forget(socket)
        return socket

    async def _on_heartbeat(self, socket: web.WebSocketResponse, _: Any) -> None:
        await socket.send_str(json.dumps({"op": 11}))

    async def _on_identify(self, socket: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.identify_payload = data
        self.shards.identify(socket, data)
        guilds = [g for g in self.guilds.values() if self.shards.carries(socket, g.id)]
        self._sequence += 1
        ready = ready_payload(self, (g.id for g in guilds), self.shards.of(socket))
        await socket.send_str(json.dumps({"op": 0, "t": "READY", "s": self._sequence, "d": ready}))
        for guild in guilds:
            self._sequence += 1
            await socket.send_str(
                json.dumps(
                    {"op": 0, "t": "GUILD_CREATE", "s": self._sequence, "d": guild.payload()}
                )
            )
        self.identified.set()

    # REST ----------------------------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        """Wait until ``predicate()`` holds; it is re-checked after every request."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        self.requests.append(
            RecordedRequest(request.method, path, dict(request.query), body, files)
        )
        try:
            status, reply = self.rest.route(request.method, path.strip("/").split("/"), body, files)
        finally:
            async with self._changed:
                self._changed.notify_all()
        if status == 204:
            return web.Response(status=204)
        return web.Response(
            status=status, body=json.dumps(reply).encode(), headers={"Content-Type": JSON_TYPE}
        )

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
        if request.content_type.startswith("multipart/"):
            body: Any = None
            files: list[tuple[str, bytes]] = []
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                else:
                    files.append((part.filename or part.name or "", bytes(await part.read())))
            return body, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    # CDN -------------------------------------------------------------------------------------
    async def _cdn(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        self.cdn_downloads.append(key)
        if key not in self.cdn_files:
            return web.Response(status=404)
        data, content_type = self.cdn_files[key]
        return web.Response(body=data, content_type=content_type or "application/octet-stream")
