"""``/speech language|style|show|reset``: a member's own language and speaking style in a
server, used by ``/say`` when they do not choose and by auto-read.

They are the member's own, like ``/voice default``: not in the audit trail, but in
``/privacy export`` and removed by ``/privacy delete`` (they live in ``member_settings``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import model_languages
from bot.checks import guild_member
from bot.errors import UserFacingError
from bot.exts.speech.style import (
    MEMBER_NAMES,
    MODEL_DEFAULTS,
    SEED_MAX,
    STYLE_FIELDS,
    STYLE_HELP,
    StyleRequest,
    check_style_value,
    ignored_note,
    shown,
)
from bot.languages import describe, resolve_language
from bot.store.settings import SpeakingPreferences

if TYPE_CHECKING:
    from bot.client import ParrotBot

RESETS = {
    "all": ("language", *STYLE_FIELDS),
    "language": ("language",),
    "style": STYLE_FIELDS,
    **{MEMBER_NAMES[name]: (name,) for name in STYLE_FIELDS},
}
"""What ``/speech reset`` clears for each choice."""


class PreferencesCog(commands.Cog):
    speech = app_commands.Group(
        name="speech", description="Your language and speaking style for /say", guild_only=True
    )

    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot

    @speech.command(name="language", description="The language I speak your /say texts in")
    @app_commands.describe(language="A language the bot's voice model speaks")
    @app_commands.autocomplete(language=model_languages)
    async def language(self, interaction: discord.Interaction, language: str) -> None:
        member = guild_member(interaction)
        model = self.bot.engine.tts_model
        code = resolve_language(model, language)
        await self.bot.store.settings.update_preferences(member.guild.id, member.id, language=code)
        await interaction.response.send_message(
            f"I'll speak {describe(model, code)} for you in this server, unless you pick "
            "another `language` in `/say`.",
            ephemeral=True,
        )

    @speech.command(name="style", description="Save your speaking style for /say")
    @app_commands.describe(**STYLE_HELP)
    async def style(
        self,
        interaction: discord.Interaction,
        expressiveness: app_commands.Range[float, 0.0, 2.0] | None = None,
        guidance: app_commands.Range[float, 0.0, 1.0] | None = None,
        temperature: app_commands.Range[float, 0.0, 2.0] | None = None,
        seed: app_commands.Range[int, 0, SEED_MAX] | None = None,
    ) -> None:
        member = guild_member(interaction)
        given = StyleRequest(expressiveness, guidance, temperature, seed).given()
        if not given:
            raise UserFacingError(
                "Give at least one of expressiveness, guidance, temperature or seed; "
                "`/speech show` shows what you have saved."
            )
        for name, value in given.items():
            check_style_value(self.bot.settings, name, value, saved=False)
        saved = await self.bot.store.settings.update_preferences(
            member.guild.id, member.id, **given
        )
        note = ignored_note(self.bot.engine.tts_model, given)
        await interaction.response.send_message(
            "\n".join(["Saved.", *([note] if note else [])]),
            embed=await self._describe(member, saved),
            ephemeral=True,
        )

    @speech.command(name="show", description="Your language and speaking style here")
    async def show(self, interaction: discord.Interaction) -> None:
        member = guild_member(interaction)
        saved = await self.bot.store.settings.preferences(member.guild.id, member.id)
        await interaction.response.send_message(
            embed=await self._describe(member, saved), ephemeral=True
        )

    @speech.command(name="reset", description="Forget your saved language or style here")
    @app_commands.describe(setting="What to forget (default: all of it)")
    @app_commands.choices(setting=[app_commands.Choice(name=name, value=name) for name in RESETS])
    async def reset(self, interaction: discord.Interaction, setting: str = "all") -> None:
        member = guild_member(interaction)
        fields = RESETS.get(setting)
        if fields is None:  # choices are Discord's hint; a crafted value gets here
            raise UserFacingError(f"Choose one of: {', '.join(RESETS)}.")
        saved = await self.bot.store.settings.update_preferences(
            member.guild.id, member.id, **dict.fromkeys(fields)
        )
        await interaction.response.send_message(
            "Forgotten." if setting == "all" else f"Forgot your {setting}.",
            embed=await self._describe(member, saved),
            ephemeral=True,
        )

    async def _describe(self, member: discord.Member, saved: SpeakingPreferences) -> discord.Embed:
        model = self.bot.engine.tts_model
        server = await self.bot.store.settings.guild(member.guild.id)
        if saved.language is not None:
            language = describe(model, saved.language)
            if not model.speaks(saved.language):
                language += " (not spoken by the bot's current model)"
        elif server.default_language is not None and model.speaks(server.default_language):
            language = f"{describe(model, server.default_language)}, the server's"
        else:
            language = "English, the model's default"
        embed = discord.Embed(title=f"How I speak for you in {member.guild.name}")
        embed.add_field(name="Language", value=language, inline=False)
        for name, value in _style_rows(saved):
            embed.add_field(name=MEMBER_NAMES[name].capitalize(), value=value)
        note = ignored_note(model, saved.style)
        footer = f"Voice model: {model.model.value} ({len(model.languages)} languages)."
        embed.set_footer(text=f"{footer} {note}" if note else footer)
        return embed


def _style_rows(saved: SpeakingPreferences) -> list[tuple[str, str]]:
    rows = []
    for name in STYLE_FIELDS:
        value = saved.style.get(name)
        if value is not None:
            rows.append((name, f"{shown(value)} (yours)"))
        elif name == "seed":
            rows.append((name, "random"))
        else:
            rows.append((name, f"{getattr(MODEL_DEFAULTS, name):g} (default)"))
    return rows
