"""``/moderate hide|unhide|delete``: Manage Server, checked here and hinted to Discord."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.access import can_moderate_delete, can_moderate_hide
from bot.checks import require_manager
from bot.errors import UserFacingError
from bot.exts.moderation.lookup import (
    deletable_voices,
    hidden_voices,
    hideable_voices,
    moderated_voice,
)
from bot.exts.moderation.notices import deleted_notice, hidden_notice, tell_owner, unhidden_notice
from bot.store.audit import AuditAction, Who
from bot.views import ConfirmView
from bot.voice_lookup import VOICE_HELP, actor_of
from bot.voices.removal import delete_voice

if TYPE_CHECKING:
    from bot.client import ParrotBot

MAX_REASON = 300
REASON_HELP = "Why (the voice's owner is told)"


def checked_reason(reason: str | None, *, required: bool) -> str | None:
    """The reason stripped; ``Range`` is only Discord's hint, so its bounds are checked here."""
    reason = (reason or "").strip()
    if not reason:
        if required:
            raise UserFacingError("Give a reason: the voice's owner is told it.")
        return None
    if len(reason) > MAX_REASON:
        raise UserFacingError(f"Keep the reason under {MAX_REASON} characters.")
    return reason


class ModerationCog(commands.Cog):
    moderate = app_commands.Group(
        name="moderate",
        description="Hide or delete voices in this server (Manage Server)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot

    @moderate.command(name="hide", description="Hide a voice in this server: nobody can use it")
    @app_commands.describe(voice=VOICE_HELP, reason=REASON_HELP)
    @app_commands.autocomplete(voice=hideable_voices)
    async def hide(
        self,
        interaction: discord.Interaction,
        voice: str,
        reason: app_commands.Range[str, 1, MAX_REASON],
    ) -> None:
        member = require_manager(interaction)
        why = checked_reason(reason, required=True)
        actor = actor_of(interaction)
        target = await moderated_voice(self.bot.store, voice, actor, can_moderate_hide)
        async with self.bot.store.unit_of_work() as work:
            hid = await work.hides.hide(target.id, member.guild.id, hidden_by=member.id, reason=why)
            if hid:
                await work.audit.record(
                    AuditAction.HIDE,
                    Who.member(member.id),
                    voice=target,
                    guild_id=member.guild.id,
                    detail={"reason": why},
                )
        if not hid:
            raise UserFacingError(f"**{target.name}** is already hidden in this server.")
        await interaction.response.defer(ephemeral=True, thinking=True)  # a DM may be slow
        await self.bot.recheck_voice(target.id)
        told = await tell_owner(
            self.bot, target, member.id, hidden_notice(target, member.guild.name, why or "")
        )
        await interaction.followup.send(
            f"Hid **{target.name}** in this server: nobody can use it here.{told}",
            ephemeral=True,
        )

    @moderate.command(name="unhide", description="Let a hidden voice be used here again")
    @app_commands.describe(voice=VOICE_HELP, reason="Why, optional (the owner is told)")
    @app_commands.autocomplete(voice=hidden_voices)
    async def unhide(
        self,
        interaction: discord.Interaction,
        voice: str,
        reason: app_commands.Range[str, 1, MAX_REASON] | None = None,
    ) -> None:
        member = require_manager(interaction)
        why = checked_reason(reason, required=False)
        actor = actor_of(interaction)
        target = await moderated_voice(self.bot.store, voice, actor, can_moderate_hide)
        async with self.bot.store.unit_of_work() as work:
            lifted = await work.hides.unhide(target.id, member.guild.id)
            if lifted:
                await work.audit.record(
                    AuditAction.UNHIDE,
                    Who.member(member.id),
                    voice=target,
                    guild_id=member.guild.id,
                    detail={"reason": why} if why else None,
                )
        if not lifted:
            raise UserFacingError(f"**{target.name}** is not hidden in this server.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        told = await tell_owner(
            self.bot, target, member.id, unhidden_notice(target, member.guild.name, why)
        )
        await interaction.followup.send(
            f"**{target.name}** can be used in this server again.{told}", ephemeral=True
        )

    @moderate.command(name="delete", description="Delete a member's voice enrolled here")
    @app_commands.describe(voice=VOICE_HELP, reason=REASON_HELP)
    @app_commands.autocomplete(voice=deletable_voices)
    async def delete(
        self,
        interaction: discord.Interaction,
        voice: str,
        reason: app_commands.Range[str, 1, MAX_REASON],
    ) -> None:
        member = require_manager(interaction)
        why = checked_reason(reason, required=True)
        actor = actor_of(interaction)
        target = await moderated_voice(self.bot.store, voice, actor, can_moderate_delete)
        view = ConfirmView(member.id, confirm_label="Delete")
        await interaction.response.send_message(
            f"Delete **{target.name}** of <@{target.owner_id}> with all its samples? "
            "This cannot be undone; its owner is told why.",
            view=view,
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        await view.wait()
        if not view.confirmed:
            await interaction.followup.send(f"Kept **{target.name}**.", ephemeral=True)
            return
        current = await self.bot.store.voices.get(target.id)
        if current is None or not await delete_voice(
            self.bot.store,
            self.bot.library,
            current,
            Who.member(member.id),
            guild_id=member.guild.id,
            detail={"reason": why, "moderation": True},
        ):
            await interaction.followup.send(
                f"**{target.name}** was already deleted.", ephemeral=True
            )
            return
        told = await tell_owner(
            self.bot, current, member.id, deleted_notice(current, member.guild.name, why or "")
        )
        await interaction.followup.send(f"Deleted **{target.name}**.{told}", ephemeral=True)
