"""The fake's REST API: routes discord.py's calls and keeps what the bot sent.

Interaction responses, follow-ups and channel messages are stored as message objects and
edited in place, so a GET returns a message's current state under a stable id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakediscord import payloads
from tests.fakediscord.payloads import snowflake

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord
    from tests.fakediscord.world import InteractionLog

UNKNOWN_MESSAGE = 404, {"message": "Unknown Message", "code": 10008}
DMS_CLOSED = 403, {"message": "Cannot send messages to this user", "code": 50007}


class RestRoutes:
    def __init__(self, fake: FakeDiscord) -> None:
        self._fake = fake

    def route(
        self, method: str, parts: list[str], body: Any, files: list[tuple[str, bytes]]
    ) -> tuple[int, Any]:
        match method, parts:
            case "GET", ["gateway"] | ["gateway", "bot"]:
                return 200, {
                    "url": self._fake.http_url.replace("http", "ws") + "/gateway",
                    "shards": self._fake.shards.recommended,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 1000,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            case "GET", ["users", "@me"]:
                return 200, self._fake.bot_user
            case "GET", ["oauth2", "applications", "@me"] | ["applications", "@me"]:
                return 200, payloads.application(self._fake.application_id, self._fake.owner_user)
            case "PUT", ["applications", _, "commands"]:
                return 200, self._sync(None, body)
            case "PUT", ["applications", _, "guilds", guild_id, "commands"]:
                return 200, self._sync(int(guild_id), body)
            case "GET", ["applications", _, "commands"]:
                return 200, self._fake.synced_commands.get(None, [])
            case "GET", ["applications", _, "guilds", guild_id, "commands"]:
                return 200, self._fake.synced_commands.get(int(guild_id), [])
            case "POST", ["interactions", _, token, "callback"]:
                return self._callback(token, body, files)
            case "POST", ["webhooks", _, token]:
                return self._followup(token, body, files)
            case "PATCH", ["webhooks", _, token, "messages", message_id]:
                found = self._webhook_message(token, message_id)
                if found is None:
                    return UNKNOWN_MESSAGE
                log = self._fake.interactions[token]
                log.edits.append(body or {})
                log.files += files
                return 200, self._edit(found, body or {}, files)
            case "DELETE", ["webhooks", _, token, "messages", message_id]:
                found = self._webhook_message(token, message_id)
                if found is None:
                    return UNKNOWN_MESSAGE
                self._fake.interactions[token].deleted.append(found["id"])
                return 204, None
            case "GET", ["webhooks", _, token, "messages", message_id]:
                found = self._webhook_message(token, message_id)
                return UNKNOWN_MESSAGE if found is None else (200, found)
            case "POST", ["users", "@me", "channels"]:
                return 200, self._fake.open_dm(int((body or {})["recipient_id"]))
            case "POST", ["channels", channel_id, "messages"]:
                if self._fake.dm_closed(int(channel_id)):
                    return DMS_CLOSED
                sent = self._store_message(int(channel_id), body or {}, files)
                return 200, sent
            case "POST", ["channels", _, "typing"]:
                return 204, None
            case "GET", ["channels", channel_id, "messages", message_id]:
                found = self._channel_message(int(channel_id), message_id)
                return UNKNOWN_MESSAGE if found is None else (200, found)
            case "PATCH", ["channels", channel_id, "messages", message_id]:
                found = self._channel_message(int(channel_id), message_id)
                if found is None:
                    return UNKNOWN_MESSAGE
                return 200, self._edit(found, body or {}, files)
            case "DELETE", ["channels", channel_id, "messages", message_id]:
                found = self._channel_message(int(channel_id), message_id)
                if found is None:
                    return UNKNOWN_MESSAGE
                self._fake.channel_messages[int(channel_id)].remove(found)
                return 204, None
        return 404, {"message": f"fake Discord has no route {method} /{'/'.join(parts)}", "code": 0}

    def _sync(self, guild_id: int | None, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        registered = []
        for command in commands:
            entry = dict(command)
            entry.setdefault("type", 1)
            entry.update(
                id=str(snowflake()),
                application_id=str(self._fake.application_id),
                version=str(snowflake()),
            )
            if guild_id is not None:
                entry["guild_id"] = str(guild_id)
            registered.append(entry)
        self._fake.synced_commands[guild_id] = registered
        return registered

    def _callback(
        self, token: str, body: dict[str, Any], files: list[tuple[str, bytes]]
    ) -> tuple[int, Any]:
        log = self._fake.interactions.get(token)
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
        log = self._fake.interactions.get(token)
        if log is None:
            return 404, {"message": "Unknown Webhook", "code": 10015}
        log.followups.append(body or {})
        log.files += files
        sent = self._message_for(log, body or {}, files)
        log.sent.append(sent)
        return 200, sent

    def _webhook_message(self, token: str, message_id: str) -> dict[str, Any] | None:
        """A message of the interaction: ``@original`` is the response, or the clicked message
        for a component interaction answered with an update (types 6 and 7)."""
        log = self._fake.interactions.get(token)
        if log is None:
            return None
        if message_id == "@original":
            if log.callbacks and log.callbacks[0]["type"] in (6, 7) and "message" in log.payload:
                message: dict[str, Any] = log.payload["message"]
                return message
            return log.sent[0] if log.callbacks and log.sent else None
        return next((sent for sent in log.sent if sent["id"] == message_id), None)

    def _channel_message(self, channel_id: int, message_id: str) -> dict[str, Any] | None:
        messages = self._fake.channel_messages.get(channel_id, [])
        return next((sent for sent in messages if sent["id"] == message_id), None)

    def _edit(
        self, message: dict[str, Any], body: dict[str, Any], files: list[tuple[str, bytes]]
    ) -> dict[str, Any]:
        """Apply an edit in place: the fields sent, kept attachments plus new uploads."""
        for key, empty in (("content", ""), ("embeds", []), ("components", [])):
            if key in body:
                message[key] = body[key] or empty
        if files or "attachments" in body:
            kept = {str(entry["id"]) for entry in body.get("attachments", message["attachments"])}
            message["attachments"] = [
                entry for entry in message["attachments"] if entry["id"] in kept
            ] + self._attachments_for(files)
        message["edited_timestamp"] = payloads.iso_now()
        return message

    def _attachments_for(self, files: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
        return [self._fake.add_attachment(name, data, None) for name, data in files]

    def _message_for(
        self, log: InteractionLog, body: dict[str, Any], files: list[tuple[str, bytes]]
    ) -> dict[str, Any]:
        message = payloads.message(
            int(log.payload["channel_id"]),
            self._fake.bot_user,
            body.get("content") or "",
            embeds=body.get("embeds"),
            attachments=self._attachments_for(files),
            flags=int(body.get("flags") or 0),
        )
        message["components"] = body.get("components") or []
        return message

    def _store_message(
        self, channel_id: int, body: dict[str, Any], files: list[tuple[str, bytes]]
    ) -> dict[str, Any]:
        sent = payloads.message(
            channel_id,
            self._fake.bot_user,
            body.get("content") or "",
            embeds=body.get("embeds"),
            attachments=self._attachments_for(files),
        )
        self._fake.channel_messages.setdefault(channel_id, []).append(sent)
        return sent
