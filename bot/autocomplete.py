"""Suggestions for slash-command options (voices, languages), shared by every cog."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.checks import parrot_of
from bot.languages import language_choices
from bot.voice_lookup import actor_of, voice_choices


async def usable_voices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return await voice_choices(parrot_of(interaction).store, actor_of(interaction), current)


async def changeable_voices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The member's own voices: the ones they may rename, share, add samples to, delete."""
    store = parrot_of(interaction).store
    return await voice_choices(store, actor_of(interaction), current, changeable=True)


async def model_languages(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The languages of the configured TTS model (23 for the multilingual one)."""
    return language_choices(parrot_of(interaction).engine.tts_model, current)
