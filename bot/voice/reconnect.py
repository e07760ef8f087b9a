"""Getting a server's voice connection back after Discord moved it.

When Discord fails a voice server over, discord.py reconnects by itself and its player
waits for it. But discord.py 2.7.1 sends the IP discovery request of that reconnect before
it listens for the answer, and waits for the answer without a timeout: an answer lost on
the way (UDP) or read in that gap leaves the connection half-open for good. After a grace
the player leaves and joins the same channel again, once, rather than go silent there.
"""

from __future__ import annotations

import asyncio
import logging
import time

import discord

from engine.api import ParrotError

log = logging.getLogger(__name__)


class NotInVoiceError(ParrotError):
    """The bot lost its voice connection before or while speaking."""


LOST = "I lost my voice connection and could not get it back; use /join"


async def connected_voice(
    guild: discord.Guild, *, grace: float, connect_timeout: float
) -> discord.VoiceClient:
    """The server's connected voice client: waiting out a reconnect for ``grace`` seconds,
    then joining its channel afresh; an error when the bot is not in a channel at all."""
    deadline = time.monotonic() + grace
    while True:
        voice = guild.voice_client
        if not isinstance(voice, discord.VoiceClient):
            raise NotInVoiceError("I am not connected to a voice channel any more; use /join")
        if voice.is_connected():
            return voice
        if time.monotonic() > deadline:
            return await _rejoin(voice, connect_timeout=connect_timeout)
        await asyncio.sleep(0.1)


async def _rejoin(voice: discord.VoiceClient, *, connect_timeout: float) -> discord.VoiceClient:
    channel = voice.channel
    log.warning(
        "voice in guild %s still not connected after a reconnect; joining %s again",
        voice.guild.id,
        channel.id,
    )
    try:
        await voice.disconnect(force=True)
        if not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
            raise NotInVoiceError(LOST)
        return await channel.connect(timeout=connect_timeout, self_deaf=True, reconnect=True)
    except (TimeoutError, OSError, discord.DiscordException) as error:
        raise NotInVoiceError(LOST) from error
