"""``/detect``: does a clip carry the watermark every Parrot output gets."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.attachments import check_audio_attachment, download_attachment
from engine.audio import decode
from engine.watermark import watermark_confidence

if TYPE_CHECKING:
    from bot.client import ParrotBot

DETECT_RATE = 24_000
MAX_DETECT_SECONDS = 600.0


class DetectCog(commands.Cog):
    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot

    @app_commands.command(name="detect", description="Check whether a clip was made by Parrot")
    @app_commands.describe(clip="The audio clip to check")
    async def detect(self, interaction: discord.Interaction, clip: discord.Attachment) -> None:
        settings = self.bot.settings
        check_audio_attachment(clip, max_bytes=settings.max_upload_bytes)
        await interaction.response.defer(ephemeral=True, thinking=True)
        folder = settings.data_dir / "tmp" / "uploads"
        path = await download_attachment(clip, folder, max_bytes=settings.max_upload_bytes)
        try:
            audio = await asyncio.to_thread(
                decode,
                path,
                sample_rate=DETECT_RATE,
                max_bytes=settings.max_upload_bytes,
                max_seconds=MAX_DETECT_SECONDS,
                timeout=settings.decode_timeout_seconds,
            )
            confidence = await asyncio.to_thread(
                watermark_confidence, audio.samples, audio.sample_rate
            )
        finally:
            await asyncio.to_thread(path.unlink, True)
        if confidence >= 0.5:
            verdict = f"This clip carries Parrot's watermark (confidence {confidence:.0%})."
        else:
            verdict = (
                f"No Parrot watermark found (confidence {confidence:.0%}). Heavy editing or "
                "re-recording can remove it, so this is not proof either way."
            )
        await interaction.followup.send(verdict, ephemeral=True)


async def setup(parrot_bot: commands.Bot) -> None:
    await parrot_bot.add_cog(DetectCog(parrot_bot))  # type: ignore[arg-type]
