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
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
import yarl
from aiohttp import BodyPartReader, web

from tests.fakediscord import payloads
from tests.fakediscord.payloads import snowflake
from tests.fakediscord.rest import RestRoutes
from tests.fakediscord.shards import Shards, ready_payload
from tests.fakediscord.voice import FakeVoiceServer
from tests.fakediscord.voice_session import VoiceSession
from tests.fakediscord.voice_world import ChannelRef, VoiceWorld

API_PREFIX = "/api/v10"
JSON_TYPE = "application/json"  # exactly: a charset suffix makes discord.py read text
DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class FakeGuild:
    id: int
    name: str
    owner: dict[str, Any]
    everyone_permissions: int
    text_channel: dict[str, Any]
    voice_channels: list[dict[str, Any]]
    """Two voice channels; the first is :attr:`voice_channel`."""
    roles: list[dict[str, Any]]
    members: dict[int, dict[str, Any]] = field(default_factory=dict)
    voice_states: dict[int, dict[str, Any]] = field(default_factory=dict)
    """The voice state of each user in a voice channel, by user id."""

    @property
    def voice_channel(self) -> dict[str, Any]:
        return self.voice_channels[0]

    def voice_channel_of(self, user_id: int) -> int | None:
        """The id of the voice channel ``user_id`` is in, or None."""
        state = self.voice_states.get(user_id)
        return None if state is None else int(state["channel_id"])

    def members_in_voice(self, channel: dict[str, Any] | None = None) -> set[int]:
        """The ids of the users in ``channel`` (default: :attr:`voice_channel`)."""
        channel_id = int((channel or self.voice_channel)["id"])
        states = self.voice_states.items()
        return {user for user, state in states if int(state["channel_id"]) == channel_id}

    def payload(self) -> dict[str, Any]:
        return payloads.guild(
            self.id,
            self.name,
            owner_id=int(self.owner["id"]),
            channels=[self.text_channel, *self.voice_channels],
            members=list(self.members.values()),
            roles=self.roles,
            voice_states=list(self.voice_states.values()),
        )


@dataclass
class InteractionLog:
    """Everything the bot sent back for one interaction."""

    id: int
    token: str
    payload: dict[str, Any]
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    files: list[tuple[str, bytes]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    """Message objects the fake returned (reply, follow-ups): click their components.
    Edits are applied to them in place, so they show each message's current state."""
    deleted: list[str] = field(default_factory=list)
    """Ids of the messages the bot deleted (``@original`` resolved)."""

    @property
    def answered(self) -> bool:
        return bool(self.callbacks)

    def messages(self) -> list[dict[str, Any]]:
        """The message bodies of the reply, the edits and the follow-ups, in order."""
        bodies = [c.get("data") or {} for c in self.callbacks] + self.edits + self.followups
        return [body for body in bodies if body]

    def texts(self) -> list[str]:
        out = []
        for body in self.messages():
            if body.get("content"):
                out.append(body["content"])
            for embed in body.get("embeds") or []:
                out.append(json.dumps(embed))
        return out


class FakeDiscord:
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

    # direct messages ----------------------------------------------------------------------
    def open_dm(self, user_id: int) -> dict[str, Any]:
        """The DM channel with a user (``POST /users/@me/channels``), made on first use."""
        if user_id not in self.dm_channels:
            known = [
                g.members[user_id]["user"] for g in self.guilds.values() if user_id in g.members
            ]
            recipient = known[0] if known else payloads.user(user_id)
            self.dm_channels[user_id] = {
                "id": str(snowflake()),
                "type": 1,
                "recipients": [recipient],
                "last_message_id": None,
            }
        return self.dm_channels[user_id]

    def dm_closed(self, channel_id: int) -> bool:
        return any(
            int(channel["id"]) == channel_id and user_id in self.closed_dms
            for user_id, channel in self.dm_channels.items()
        )

    def direct_messages(self, user_payload: dict[str, Any]) -> list[str]:
        """The text of every direct message the bot sent to a user, in order."""
        channel = self.dm_channels.get(int(user_payload["id"]))
        if channel is None:
            return []
        return [message["content"] for message in self.channel_messages.get(int(channel["id"]), [])]

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

    # interactions -----------------------------------------------------------------------
    def command_id(self, name: str) -> int:
        for commands in self.synced_commands.values():
            for command in commands:
                if command["name"] == name:
                    return int(command["id"])
        return snowflake()

    def _interaction(
        self,
        guild: FakeGuild,
        user_payload: dict[str, Any],
        kind: int,
        data: dict[str, Any],
        *,
        channel_id: str | None = None,
        message: dict[str, Any] | None = None,
        attachment_size_limit: int = DEFAULT_ATTACHMENT_LIMIT,
    ) -> tuple[InteractionLog, dict[str, Any]]:
        """An INTERACTION_CREATE payload as Discord builds it, and its log."""
        user_id = int(user_payload["id"])
        member_payload = dict(guild.members[user_id])
        member_payload["permissions"] = str(self.member_permissions(guild, user_id))
        payload: dict[str, Any] = {
            "id": str(snowflake()),
            "application_id": str(self.application_id),
            "type": kind,
            "token": secrets.token_urlsafe(24),
            "version": 1,
            "guild_id": str(guild.id),
            "channel_id": channel_id or guild.text_channel["id"],
            "channel": guild.text_channel,
            "member": member_payload,
            "data": data,
            "app_permissions": str(self.member_permissions(guild, self.application_id)),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": attachment_size_limit,
        }
        if message is not None:
            payload["message"] = message
        log = InteractionLog(int(payload["id"]), payload["token"], payload)
        self.interactions[payload["token"]] = log
        return log, payload

    async def slash(
        self,
        guild: FakeGuild,
        user_payload: dict[str, Any],
        name: str,
        options: list[dict[str, Any]] | None = None,
        *,
        resolved: dict[str, Any] | None = None,
        attachment_size_limit: int = DEFAULT_ATTACHMENT_LIMIT,
    ) -> InteractionLog:
        """Dispatch a chat-input command as Discord would; returns its log."""
        data: dict[str, Any] = {
            "id": str(self.command_id(name)),
            "name": name,
            "type": 1,
            "options": options or [],
        }
        if resolved:
            data["resolved"] = resolved
        log, payload = self._interaction(
            guild, user_payload, 2, data, attachment_size_limit=attachment_size_limit
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return log

    async def autocomplete(
        self,
        guild: FakeGuild,
        user_payload: dict[str, Any],
        name: str,
        subcommand: str | None,
        option: str,
        typed: str,
    ) -> list[dict[str, Any]]:
        """Type into ``option`` of ``/name [subcommand]``; returns the choices offered."""
        focused = [{"name": option, "type": 3, "value": typed, "focused": True}]
        options = [{"name": subcommand, "type": 1, "options": focused}] if subcommand else focused
        data = {"id": str(self.command_id(name)), "name": name, "type": 1, "options": options}
        log, payload = self._interaction(guild, user_payload, 4, data)
        await self.dispatch("INTERACTION_CREATE", payload)
        await self.wait_for(lambda: log.answered)
        callback = log.callbacks[0]
        assert callback["type"] == 8, callback  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
        return list(callback["data"]["choices"])

    async def click(
        self,
        guild: FakeGuild,
        user_payload: dict[str, Any],
        message: dict[str, Any],
        custom_id: str,
        *,
        component_type: int = 2,
        values: list[str] | None = None,
    ) -> InteractionLog:
        """Press a button (or pick from a select) on a message the bot sent."""
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = values
        log, payload = self._interaction(
            guild, user_payload, 3, data, channel_id=message["channel_id"], message=message
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return log

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        """Wait until ``predicate()`` holds; it is re-checked after every request."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    # REST ----------------------------------------------------------------------------------
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
