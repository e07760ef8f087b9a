"""What a voice's owner is told when moderators act on it, by direct message.

A member with direct messages closed is not an error: the moderator is told instead."""

from __future__ import annotations

import logging

import discord

from bot.store.models import Voice

log = logging.getLogger(__name__)


def _reason(reason: str | None) -> str:
    return f" Reason: {discord.utils.escape_markdown(reason)}" if reason else ""


def hidden_notice(voice: Voice, guild_name: str, reason: str) -> str:
    return (
        f"Your voice **{voice.name}** was hidden in the server **{guild_name}** by its "
        f"moderators: nobody can use it there, you included.{_reason(reason)}\n"
        "It still works in other servers, and it stays yours: `/voice delete` removes it."
    )


def unhidden_notice(voice: Voice, guild_name: str, reason: str | None) -> str:
    return (
        f"Your voice **{voice.name}** can be used in the server **{guild_name}** again: "
        f"its moderators lifted the hide.{_reason(reason)}"
    )


def deleted_notice(voice: Voice, guild_name: str, reason: str) -> str:
    return (
        f"Your voice **{voice.name}** was deleted by the moderators of the server "
        f"**{guild_name}**, with all its samples and files.{_reason(reason)}"
    )


async def tell_owner(client: discord.Client, voice: Voice, actor_id: int, text: str) -> str:
    """Send ``text`` to the voice's owner; what to add to the moderator's reply."""
    if voice.owner_id is None or voice.owner_id == actor_id:
        return ""  # a preset, or the moderator's own voice: nobody else to tell
    try:
        channel = await client.create_dm(discord.Object(voice.owner_id))
        await channel.send(text)
    except discord.HTTPException as error:  # DMs closed (50007), or the member is gone
        log.info("could not tell member %s about a moderation: %s", voice.owner_id, error)
        return " Its owner does not accept direct messages from me, so I could not tell them."
    return " I told its owner."
