"""Members' interactions with the bot's commands and components, built as Discord builds them.

:class:`Interactions` is a mixin of :class:`~tests.fakediscord.server.FakeDiscord`: it
dispatches slash commands, autocomplete and clicks over the fake's gateway and logs what the
bot answers to each in an :class:`~tests.fakediscord.world.InteractionLog`.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from tests.fakediscord.payloads import snowflake
from tests.fakediscord.world import FakeGuild, InteractionLog

DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024


class Interactions(ABC):
    """Slash commands, autocomplete and component clicks, for the fake that mixes it in."""

    application_id: int
    interactions: dict[str, InteractionLog]
    synced_commands: dict[int | None, list[dict[str, Any]]]

    # What the fake provides: members' permissions, its gateway, and waiting on requests.
    @abstractmethod
    def member_permissions(self, guild: FakeGuild, user_id: int) -> int: ...

    @abstractmethod
    async def dispatch(self, event: str, data: dict[str, Any]) -> None: ...

    @abstractmethod
    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None: ...

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
