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

import discord
import discord.gateway
import discord.http
import pytest
import yarl
from aiohttp import BodyPartReader, web

from tests.fakediscord import payloads
from tests.fakediscord.payloads import snowflake

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
    voice_channel: dict[str, Any]
    roles: list[dict[str, Any]]
    members: dict[int, dict[str, Any]] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return payloads.guild(
            self.id,
            self.name,
            owner_id=int(self.owner["id"]),
            channels=[self.text_channel, self.voice_channel],
            members=list(self.members.values()),
            roles=self.roles,
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
    """Message objects the fake returned (reply, follow-ups): click their components."""

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
        self.cdn_files: dict[str, tuple[bytes, str | None]] = {}
        self.cdn_downloads: list[str] = []
        self.gateway_ops: dict[
            int, Callable[[web.WebSocketResponse, dict[str, Any]], Awaitable[None]]
        ] = {
            1: self._on_heartbeat,
            2: self._on_identify,
        }
        self.identified = asyncio.Event()
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

    async def stop(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point discord.py's REST and gateway at this fake for the current test."""
        monkeypatch.setattr(discord.http.Route, "BASE", self.http_url + API_PREFIX)
        monkeypatch.setattr(
            discord.gateway.DiscordWebSocket,
            "DEFAULT_GATEWAY",
            yarl.URL(self.http_url.replace("http", "ws") + "/gateway"),
        )

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
            voice_channel=payloads.voice_channel(guild_id),
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

    # gateway ----------------------------------------------------------------------------
    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        for socket in list(self._sockets):
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
        return socket

    async def _on_heartbeat(self, socket: web.WebSocketResponse, _: Any) -> None:
        await socket.send_str(json.dumps({"op": 11}))

    async def _on_identify(self, socket: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.identify_payload = data
        self._sequence += 1
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
            "session_id": secrets.token_hex(16),
            "resume_gateway_url": self.http_url.replace("http", "ws") + "/gateway",
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        await socket.send_str(json.dumps({"op": 0, "t": "READY", "s": self._sequence, "d": ready}))
        for guild in self.guilds.values():
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
        user_id = int(user_payload["id"])
        interaction_id = snowflake()
        token = secrets.token_urlsafe(24)
        member_payload = dict(guild.members[user_id])
        member_payload["permissions"] = str(self.member_permissions(guild, user_id))
        data: dict[str, Any] = {
            "id": str(self.command_id(name)),
            "name": name,
            "type": 1,
            "options": options or [],
        }
        if resolved:
            data["resolved"] = resolved
        payload = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": 2,
            "token": token,
            "version": 1,
            "guild_id": str(guild.id),
            "channel_id": guild.text_channel["id"],
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
        log = InteractionLog(interaction_id, token, payload)
        self.interactions[token] = log
        await self.dispatch("INTERACTION_CREATE", payload)
        return log

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
        user_id = int(user_payload["id"])
        token = secrets.token_urlsafe(24)
        member_payload = dict(guild.members[user_id])
        member_payload["permissions"] = str(self.member_permissions(guild, user_id))
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = values
        payload = {
            "id": str(snowflake()),
            "application_id": str(self.application_id),
            "type": 3,
            "token": token,
            "version": 1,
            "guild_id": str(guild.id),
            "channel_id": message["channel_id"],
            "channel": guild.text_channel,
            "member": member_payload,
            "message": message,
            "data": data,
            "app_permissions": str(self.member_permissions(guild, self.application_id)),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": DEFAULT_ATTACHMENT_LIMIT,
        }
        log = InteractionLog(int(payload["id"]), token, payload)
        self.interactions[token] = log
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
            status, reply = self._route(request.method, path.strip("/").split("/"), body, files)
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

    def _route(
        self, method: str, parts: list[str], body: Any, files: list[tuple[str, bytes]]
    ) -> tuple[int, Any]:
        match method, parts:
            case "GET", ["gateway"] | ["gateway", "bot"]:
                return 200, {
                    "url": self.http_url.replace("http", "ws") + "/gateway",
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 1000,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            case "GET", ["users", "@me"]:
                return 200, self.bot_user
            case "GET", ["oauth2", "applications", "@me"] | ["applications", "@me"]:
                return 200, payloads.application(self.application_id, self.owner_user)
            case "PUT", ["applications", _, "commands"]:
                return 200, self._sync(None, body)
            case "PUT", ["applications", _, "guilds", guild_id, "commands"]:
                return 200, self._sync(int(guild_id), body)
            case "GET", ["applications", _, "commands"]:
                return 200, self.synced_commands.get(None, [])
            case "GET", ["applications", _, "guilds", guild_id, "commands"]:
                return 200, self.synced_commands.get(int(guild_id), [])
            case "POST", ["interactions", _, token, "callback"]:
                return self._callback(token, body, files)
            case "POST", ["webhooks", _, token]:
                return self._followup(token, body, files)
            case "PATCH", ["webhooks", _, token, "messages", _]:
                log = self.interactions[token]
                log.edits.append(body or {})
                log.files += files
                return 200, self._message_for(log, body or {}, files)
            case "DELETE", ["webhooks", _, _, "messages", _]:
                return 204, None
            case "GET", ["webhooks", _, token, "messages", _]:
                log = self.interactions[token]
                return 200, self._message_for(log, log.messages()[-1] if log.messages() else {}, [])
            case "POST", ["channels", channel_id, "messages"]:
                sent = self._store_message(int(channel_id), body or {}, files)
                return 200, sent
            case "PATCH", ["channels", channel_id, "messages", message_id]:
                for sent in self.channel_messages.get(int(channel_id), []):
                    if sent["id"] == message_id:
                        sent.update(body or {})
                        return 200, sent
                return 404, {"message": "Unknown Message", "code": 10008}
        return 404, {"message": f"fake Discord has no route {method} /{'/'.join(parts)}", "code": 0}

    def _sync(self, guild_id: int | None, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        registered = []
        for command in commands:
            entry = dict(command)
            entry.setdefault("type", 1)
            entry.update(
                id=str(snowflake()),
                application_id=str(self.application_id),
                version=str(snowflake()),
            )
            if guild_id is not None:
                entry["guild_id"] = str(guild_id)
            registered.append(entry)
        self.synced_commands[guild_id] = registered
        return registered

    def _callback(
        self, token: str, body: dict[str, Any], files: list[tuple[str, bytes]]
    ) -> tuple[int, Any]:
        log = self.interactions.get(token)
        if log is None:
            return 404, {"message": "Unknown interaction", "code": 10062}
        if log.callbacks:
            return 400, {"message": "Interaction has already been acknowledged.", "code": 40060}
        log.callbacks.append(body)
        log.files += files
        data = body.get("data") or {}
        flags = int(data.get("flags") or 0)
        response_message = self._message_for(log, data, files)
        log.sent.append(response_message)
        return 200, {
            "interaction": {
                "id": str(log.id),
                "type": log.payload["type"],
                "response_message_id": response_message["id"],
                "response_message_loading": body["type"] == 5,
                "response_message_ephemeral": bool(flags & 64),
            },
            "resource": {"type": body["type"], "message": response_message},
        }

    def _followup(
        self, token: str, body: dict[str, Any], files: list[tuple[str, bytes]]
    ) -> tuple[int, Any]:
        log = self.interactions.get(token)
        if log is None:
            return 404, {"message": "Unknown Webhook", "code": 10015}
        log.followups.append(body or {})
        log.files += files
        sent = self._message_for(log, body or {}, files)
        log.sent.append(sent)
        return 200, sent

    def _attachments_for(self, files: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
        return [self.add_attachment(name, data, None) for name, data in files]

    def _message_for(
        self, log: InteractionLog, body: dict[str, Any], files: list[tuple[str, bytes]]
    ) -> dict[str, Any]:
        return payloads.message(
            int(log.payload["channel_id"]),
            self.bot_user,
            body.get("content") or "",
            embeds=body.get("embeds"),
            attachments=self._attachments_for(files),
            flags=int(body.get("flags") or 0),
        )

    def _store_message(
        self, channel_id: int, body: dict[str, Any], files: list[tuple[str, bytes]]
    ) -> dict[str, Any]:
        sent = payloads.message(
            channel_id,
            self.bot_user,
            body.get("content") or "",
            embeds=body.get("embeds"),
            attachments=self._attachments_for(files),
        )
        self.channel_messages.setdefault(channel_id, []).append(sent)
        return sent

    # CDN -------------------------------------------------------------------------------------
    async def _cdn(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        self.cdn_downloads.append(key)
        if key not in self.cdn_files:
            return web.Response(status=404)
        data, content_type = self.cdn_files[key]
        return web.Response(body=data, content_type=content_type or "application/octet-stream")
