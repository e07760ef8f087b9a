"""``/settings``: a server's options for Parrot (Manage Server)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import model_languages
from bot.checks import parrot_of, require_manager
from bot.errors import UserFacingError
from bot.languages import describe, resolve_language
from bot.store.audit import AuditAction, Who
from bot.store.models import Visibility, Voice
from bot.store.settings import GuildSettings
from bot.voice_lookup import actor_of, usable_voice, voice_choices

if TYPE_CHECKING:
    from bot.client import ParrotBot

CLEAR_WORDS = frozenset({"none", "clear", "off", "default"})
"""What ``default_language`` takes to go back to the model's own language."""


async def _shared_voice_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return await voice_choices(parrot_of(interaction).store, actor_of(interaction), current)


async def _default_language_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The model's languages, and ``none`` to go back to the model's own."""
    choices = await model_languages(interaction, current)
    if "none".startswith(current.strip().lower()):
        choices.insert(0, app_commands.Choice(name="none (the model's own language)", value="none"))
    return choices[:25]


class SettingsCog(commands.Cog):
    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot

    @app_commands.command(name="settings", description="Show or change Parrot's server options")
    @app_commands.describe(
        announce_names="Say who is speaking before auto-read messages",
        max_length="Longest text Parrot reads (characters)",
        required_role="Only members with this role may use Parrot",
        clear_required_role="Let every member use Parrot again",
        idle_timeout="Seconds of silence before Parrot leaves the voice channel",
        default_voice="The voice for members who chose none (must be shared or a preset)",
        default_language="The language for members who chose none (`none` clears it)",
    )
    @app_commands.autocomplete(
        default_voice=_shared_voice_autocomplete, default_language=_default_language_autocomplete
    )
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def settings(
        self,
        interaction: discord.Interaction,
        announce_names: bool | None = None,
        max_length: app_commands.Range[int, 20, 2000] | None = None,
        required_role: discord.Role | None = None,
        clear_required_role: bool = False,
        idle_timeout: app_commands.Range[int, 30, 3600] | None = None,
        default_voice: str | None = None,
        default_language: str | None = None,
    ) -> None:
        member = require_manager(interaction)
        changes: dict[str, object] = {}
        shown: dict[str, object] = {}  # the new values by option name, for the audit trail
        if announce_names is not None:
            changes["announce_names"] = int(announce_names)
            shown["announce_names"] = announce_names
        if max_length is not None:
            if not 20 <= max_length <= 2000:  # Range is Discord's hint, not checked locally
                raise UserFacingError("max_length must be between 20 and 2000.")
            changes["max_text_chars"] = shown["max_length"] = max_length
        if idle_timeout is not None:
            if not 30 <= idle_timeout <= 3600:
                raise UserFacingError("idle_timeout must be between 30 and 3600 seconds.")
            changes["idle_timeout_s"] = shown["idle_timeout"] = idle_timeout
        if clear_required_role:
            changes["required_role_id"] = shown["required_role"] = None
        elif required_role is not None:
            changes["required_role_id"] = shown["required_role"] = required_role.id
        voice: Voice | None = None
        if default_voice is not None:
            voice = await usable_voice(self.bot.store, default_voice, actor_of(interaction))
            if voice.visibility is Visibility.PRIVATE:
                raise UserFacingError(
                    f"**{voice.name}** is private; share it with `/voice share` first."
                )
            changes["default_voice_id"] = shown["default_voice"] = voice.id
        if default_language is not None:
            cleared = default_language.strip().lower() in CLEAR_WORDS
            code = (
                None if cleared else resolve_language(self.bot.engine.tts_model, default_language)
            )
            changes["default_language"] = shown["default_language"] = code
        async with self.bot.store.unit_of_work() as work:
            current = await work.settings.update_guild(member.guild.id, **changes)
            for setting, value in shown.items():
                await work.audit.record(
                    AuditAction.SETTINGS,
                    Who.member(member.id),
                    voice=voice if setting == "default_voice" else None,
                    guild_id=member.guild.id,
                    detail={"setting": setting, "value": value},
                )
        await interaction.response.send_message(
            embed=await self._describe(member.guild, current), ephemeral=True
        )

    async def _describe(self, guild: discord.Guild, current: GuildSettings) -> discord.Embed:
        embed = discord.Embed(title=f"Parrot in {guild.name}")
        voice = None
        if current.default_voice_id:
            voice = await self.bot.store.voices.get(current.default_voice_id)
        role = guild.get_role(current.required_role_id) if current.required_role_id else None
        reading = f"<#{current.autoread_channel_id}>" if current.autoread_channel_id else "off"
        embed.add_field(name="Default voice", value=voice.name if voice else "none")
        embed.add_field(name="Announce names", value="yes" if current.announce_names else "no")
        embed.add_field(name="Max length", value=f"{current.max_text_chars} characters")
        embed.add_field(name="Required role", value=role.mention if role else "none")
        embed.add_field(name="Idle timeout", value=f"{current.idle_timeout_s} s")
        embed.add_field(name="Auto-read", value=reading)
        embed.add_field(name="Default language", value=self._language(current))
        return embed

    def _language(self, current: GuildSettings) -> str:
        model = self.bot.engine.tts_model
        if current.default_language is None:
            return "the model's (English)"
        text = describe(model, current.default_language)
        if not model.speaks(current.default_language):
            text += ", not spoken by the current model"
        return text


async def setup(parrot_bot: ParrotBot) -> None:
    await parrot_bot.add_cog(SettingsCog(parrot_bot))
