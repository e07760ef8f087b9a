"""Checks shared by the feature cogs, enforced here and not only by Discord's defaults."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import discord

from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.client import ParrotBot


def parrot_of(interaction: discord.Interaction) -> ParrotBot:
    """The bot behind an interaction (discord.py types it as a plain ``Client``)."""
    return cast("ParrotBot", interaction.client)


def guild_member(interaction: discord.Interaction) -> discord.Member:
    if interaction.guild is None or not isinstance(interaction.user, discord.Member):
        raise UserFacingError("This command only works in a server.")
    return interaction.user


def manages_guild(permissions: discord.Permissions) -> bool:
    return permissions.manage_guild or permissions.administrator


async def require_speaker_role(
    parrot: ParrotBot, member: discord.Member, permissions: discord.Permissions | None = None
) -> None:
    """A server may reserve Parrot for one role; server managers always pass.

    ``permissions`` are the interaction's (resolved by Discord); without an interaction
    the member's server-wide permissions from the cache are used.
    """
    settings = await parrot.store.settings.guild(member.guild.id)
    if settings.required_role_id is None:
        return
    if manages_guild(permissions or member.guild_permissions):
        return
    if any(role.id == settings.required_role_id for role in member.roles):
        return
    role = member.guild.get_role(settings.required_role_id)
    name = f"**{role.name}**" if role is not None else "a role that no longer exists"
    raise UserFacingError(f"In this server Parrot is for members with the {name} role.")


def require_manager(interaction: discord.Interaction) -> discord.Member:
    """Manage Server, checked locally (``default_permissions`` is only a hint to Discord)."""
    member = guild_member(interaction)
    if not manages_guild(interaction.permissions):
        raise UserFacingError("You need the Manage Server permission for this.")
    return member
