"""The players of every server the bot speaks in."""

from __future__ import annotations

import logging

import discord

from bot.voice.player import Admission, GuildPlayer
from engine.api import VoiceEngine

log = logging.getLogger(__name__)


class PlayerRegistry:
    """Creates a :class:`GuildPlayer` on first use and forgets it when the bot leaves."""

    def __init__(
        self,
        engine: VoiceEngine,
        *,
        max_queue: int,
        admit: Admission | None = None,
        connect_timeout: float = 20.0,
    ) -> None:
        self._engine = engine
        self._max_queue = max_queue
        self._connect_timeout = connect_timeout
        self._admit = admit
        self._players: dict[int, GuildPlayer] = {}

    def get(self, guild_id: int) -> GuildPlayer | None:
        return self._players.get(guild_id)

    def for_guild(self, guild: discord.Guild, *, idle_timeout: float) -> GuildPlayer:
        player = self._players.get(guild.id)
        if player is None:
            player = GuildPlayer(
                guild,
                self._engine,
                max_queue=self._max_queue,
                idle_timeout=idle_timeout,
                on_idle_leave=self._leave_idle,
                admit=self._admit,
                reconnect_grace=self._connect_timeout,
                connect_timeout=self._connect_timeout,
            )
            self._players[guild.id] = player
        else:
            player.idle_timeout = idle_timeout
        return player

    async def _leave_idle(self, player: GuildPlayer) -> None:
        self._players.pop(player.guild.id, None)
        voice = player.guild.voice_client
        if voice is not None:
            await voice.disconnect(force=False)

    async def leave(self, guild: discord.Guild) -> bool:
        """Stop the server's player and leave its voice channel; False if not in one."""
        player = self._players.pop(guild.id, None)
        if player is not None:
            await player.close()
        voice = guild.voice_client
        if voice is None:
            return player is not None
        await voice.disconnect(force=True)
        return True

    async def forget(self, guild_id: int) -> None:
        """The bot was disconnected from outside (kicked, channel deleted): drop the queue."""
        player = self._players.pop(guild_id, None)
        if player is not None:
            await player.close()

    async def recheck_voice(self, voice_id: str) -> int:
        """Every server's :meth:`GuildPlayer.recheck_voice`: a voice's use changed."""
        dropped = 0
        for player in list(self._players.values()):
            dropped += await player.recheck_voice(voice_id)
        return dropped

    async def close(self) -> None:
        for guild_id in list(self._players):
            await self.forget(guild_id)
