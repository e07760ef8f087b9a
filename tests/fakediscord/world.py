"""The fake's world as data: its guilds, the REST calls it received, and what the bot sent
back for each interaction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.fakediscord import payloads


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
