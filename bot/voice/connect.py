"""Joining a member's voice channel, with a specific reason whenever that is not possible."""

from __future__ import annotations

import discord

from bot.errors import UserFacingError

VocalChannel = discord.VoiceChannel | discord.StageChannel
"""A channel Parrot can speak in (a stage too)."""


def members_channel(member: discord.Member | discord.User) -> VocalChannel:
    """The voice channel the member is in, or an error telling them to join one."""
    state = getattr(member, "voice", None)
    channel = state.channel if state is not None else None
    if not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
        raise UserFacingError("Join a voice channel first, then ask again.")
    return channel


def check_can_join(channel: VocalChannel, me: discord.Member) -> None:
    permissions = channel.permissions_for(me)
    if not permissions.view_channel or not permissions.connect:
        raise UserFacingError(
            f"I can't join {channel.mention}: I'm missing the Connect permission there."
        )
    if not permissions.speak:
        raise UserFacingError(
            f"I can join {channel.mention} but not talk there: I'm missing the Speak permission."
        )
    already_inside = me.voice is not None and me.voice.channel == channel
    if (
        channel.user_limit
        and len(channel.members) >= channel.user_limit
        and not already_inside
        and not permissions.move_members
    ):
        raise UserFacingError(f"{channel.mention} is full.")


async def ensure_connected(
    guild: discord.Guild, channel: VocalChannel, *, busy: bool, connect_timeout: float
) -> discord.VoiceClient:
    """Be in ``channel``: connect, or move there when not busy elsewhere in the server."""
    check_can_join(channel, guild.me)
    voice = guild.voice_client
    if isinstance(voice, discord.VoiceClient) and voice.is_connected():
        if voice.channel == channel:
            return voice
        if busy:
            raise UserFacingError(
                f"I'm speaking in {voice.channel.mention} right now; join that channel or wait "
                "until I'm done."
            )
        # Not move_to(): in discord.py 2.7.1 it opens a new UDP socket whose IP discovery
        # can wait ~30 s behind the old socket's select(), then returns without raising.
        await voice.disconnect(force=True)
    elif voice is not None:  # a half-open connection from an earlier failure
        await voice.disconnect(force=True)
    try:
        return await channel.connect(timeout=connect_timeout, self_deaf=True, reconnect=True)
    except TimeoutError:
        raise UserFacingError(
            f"I could not connect to {channel.mention} in time; please try again."
        ) from None
    except discord.ClientException as error:
        raise UserFacingError(f"I could not join {channel.mention}: {error}") from None
