"""The main gateway's side of voice: who is in which channel, op 4, permission overwrites.

Discord's behaviour modelled here: a voice state update (op 4) into a channel answers with
VOICE_STATE_UPDATE then VOICE_SERVER_UPDATE (a fresh token for the voice server); moving a
connected bot, or taking it out of voice, also closes its voice websocket with 4014; a join
into a channel the bot may not view or connect to is ignored (the client times out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakediscord import payloads
from tests.fakediscord.permissions import apply_overwrites
from tests.fakediscord.voice import CLOSE_DISCONNECTED

if TYPE_CHECKING:
    from aiohttp import web

    from tests.fakediscord.server import FakeDiscord
    from tests.fakediscord.world import FakeGuild

ChannelRef = dict[str, Any] | int | None
"""A channel payload, a channel id, or None for the guild's first voice channel."""


class VoiceWorld:
    def __init__(self, fake: FakeDiscord) -> None:
        self._fake = fake
        self.requests: list[dict[str, Any]] = []
        """Every op 4 the bot sent, in order."""
        self.refused: list[dict[str, Any]] = []
        """The op 4 joins ignored because the bot lacked VIEW_CHANNEL or CONNECT."""

    # permissions ----------------------------------------------------------------------------
    def channel_permissions(self, guild: FakeGuild, user_id: int, channel: ChannelRef) -> int:
        payload = voice_channel(guild, channel)
        member = guild.members[user_id]
        role_ids = {int(role) for role in member["roles"]}
        base = self._fake.member_permissions(guild, user_id)
        return apply_overwrites(base, guild.id, user_id, role_ids, payload["permission_overwrites"])

    async def set_bot_permissions(
        self, guild: FakeGuild, *, allow: int = 0, deny: int = 0, channel: ChannelRef = None
    ) -> None:
        """Replace the bot's member overwrite on a voice channel; dispatch CHANNEL_UPDATE."""
        payload = voice_channel(guild, channel)
        bot_id = self._fake.application_id
        overwrites = [o for o in payload["permission_overwrites"] if int(o["id"]) != bot_id]
        if allow or deny:
            overwrites.append(payloads.member_overwrite(bot_id, allow=allow, deny=deny))
        payload["permission_overwrites"] = overwrites
        await self._fake.dispatch("CHANNEL_UPDATE", payload)

    # members ----------------------------------------------------------------------------------
    async def join(
        self, guild: FakeGuild, user_payload: dict[str, Any], channel: ChannelRef = None
    ) -> None:
        """Put a member into a voice channel, as their Discord client would."""
        user_id = int(user_payload["id"])
        target = int(voice_channel(guild, channel)["id"])
        if user_id == self._fake.application_id:
            await self._place_bot(guild, target, self_mute=False, self_deaf=False)
            return
        state = payloads.voice_state(
            guild.id, guild.members[user_id], target, f"member-{user_id}-session"
        )
        guild.voice_states[user_id] = state
        await self._fake.dispatch("VOICE_STATE_UPDATE", state)

    async def leave(self, guild: FakeGuild, user_payload: dict[str, Any]) -> None:
        """Take a member out of voice; for the bot this is a kick (its websocket closes 4014)."""
        user_id = int(user_payload["id"])
        previous = guild.voice_states.pop(user_id, None)
        session_id = previous["session_id"] if previous else self._fake.session_id
        state = payloads.voice_state(guild.id, guild.members[user_id], None, session_id)
        await self._fake.dispatch("VOICE_STATE_UPDATE", state)
        if user_id == self._fake.application_id:
            await self._fake.voice.close(guild.id, CLOSE_DISCONNECTED)

    async def fail_over(self, guild: FakeGuild) -> None:
        """Move the bot's voice session to a "new" voice server, as Discord does when one fails.

        A VOICE_SERVER_UPDATE with a fresh token: discord.py closes its old websocket (4014)
        and identifies again; the old socket is closed here too if it is still open.
        """
        bot_id = self._fake.application_id
        if not self._fake.voice.is_connected(guild.id) or bot_id not in guild.voice_states:
            raise AssertionError(f"the bot has no voice connection in guild {guild.id} to drop")
        token = self._fake.voice.grant(guild.id, bot_id, self._fake.session_id)
        update = payloads.voice_server_update(guild.id, token, self._fake.voice.endpoint)
        await self._fake.dispatch("VOICE_SERVER_UPDATE", update)

    # the bot's op 4 ------------------------------------------------------------------------
    async def on_voice_state_request(self, _: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.requests.append(data)
        guild = self._fake.guilds.get(int(data["guild_id"]))
        if guild is None:
            return
        if data.get("channel_id") is None:
            await self.leave(guild, self._fake.bot_user)
            return
        channel_id = int(data["channel_id"])
        allowed = self.channel_permissions(guild, self._fake.application_id, channel_id)
        needed = payloads.VIEW_CHANNEL | payloads.CONNECT
        if allowed & needed != needed:
            self.refused.append(data)
            return
        await self._place_bot(
            guild,
            channel_id,
            self_mute=bool(data.get("self_mute")),
            self_deaf=bool(data.get("self_deaf")),
        )

    async def _place_bot(
        self, guild: FakeGuild, channel_id: int, *, self_mute: bool, self_deaf: bool
    ) -> None:
        bot_id = self._fake.application_id
        previous = guild.voice_states.get(bot_id)
        moved = previous is not None and int(previous["channel_id"]) != channel_id
        session_id = self._fake.session_id
        state = payloads.voice_state(
            guild.id,
            guild.members[bot_id],
            channel_id,
            session_id,
            self_mute=self_mute,
            self_deaf=self_deaf,
        )
        guild.voice_states[bot_id] = state
        await self._fake.dispatch("VOICE_STATE_UPDATE", state)
        token = self._fake.voice.grant(guild.id, bot_id, session_id)
        update = payloads.voice_server_update(guild.id, token, self._fake.voice.endpoint)
        await self._fake.dispatch("VOICE_SERVER_UPDATE", update)
        if moved:
            await self._fake.voice.close(guild.id, CLOSE_DISCONNECTED)


def voice_channel(guild: FakeGuild, channel: ChannelRef) -> dict[str, Any]:
    if channel is None:
        return guild.voice_channel
    channel_id = int(channel["id"]) if isinstance(channel, dict) else channel
    for payload in guild.voice_channels:
        if int(payload["id"]) == channel_id:
            return payload
    raise KeyError(f"guild {guild.id} has no voice channel {channel_id}")
