"""The bot's direct messages: the DM channel with each user, and what the bot sent there.

:class:`DirectMessages` is a mixin of :class:`~tests.fakediscord.server.FakeDiscord`; the
REST routes open DM channels through it and refuse messages to users in ``closed_dms``.
"""

from __future__ import annotations

from typing import Any

from tests.fakediscord import payloads
from tests.fakediscord.payloads import snowflake
from tests.fakediscord.world import FakeGuild


class DirectMessages:
    """The DM channels of the fake that mixes it in, kept in its ``dm_channels``."""

    guilds: dict[int, FakeGuild]
    channel_messages: dict[int, list[dict[str, Any]]]
    dm_channels: dict[int, dict[str, Any]]
    closed_dms: set[int]

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
