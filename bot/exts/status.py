"""``/parrot status``: is the bot healthy and what is it running on."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

import bot
from bot.store.models import VoiceStatus

if TYPE_CHECKING:
    from bot.client import ParrotBot


class StatusCog(commands.Cog):
    parrot = app_commands.Group(name="parrot", description="About Parrot itself")

    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot

    @parrot.command(name="status", description="Version, device, voices and engine state")
    async def status(self, interaction: discord.Interaction) -> None:
        # A cold engine resolves its device (importing torch) first: answer Discord now.
        await interaction.response.defer(ephemeral=True, thinking=True)
        engine = await self.bot.engine.status()
        voices = self.bot.store.voices
        ready, total = await voices.count(status=VoiceStatus.READY), await voices.count()
        embed = discord.Embed(title="Parrot status", colour=discord.Colour.green())
        embed.add_field(name="Version", value=bot.__version__)
        embed.add_field(name="Device", value=engine.device)
        embed.add_field(name="Voices", value=f"{ready} ready / {total} total")
        embed.add_field(name="Engine", value=engine.state)
        embed.add_field(name="TTS model", value=self.bot.settings.tts_model.value)
        latency = self.bot.latency
        embed.add_field(
            name="Gateway latency",
            value="unknown" if latency != latency else f"{latency * 1000:.0f} ms",  # NaN early
        )
        await interaction.followup.send(embed=embed, ephemeral=True)


async def setup(parrot_bot: ParrotBot) -> None:
    await parrot_bot.add_cog(StatusCog(parrot_bot))
