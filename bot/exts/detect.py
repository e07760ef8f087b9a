"""``/detect``: does a clip carry the watermark every Parrot output gets."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.attachments import check_audio_attachment, download_attachment
from bot.limits import ConcurrencyLimit, MemberCooldown

if TYPE_CHECKING:
    from bot.client import ParrotBot

MAX_DETECT_SECONDS = 600.0


class DetectCog(commands.Cog):
    """Each check decodes up to ten minutes of audio and runs the detector: a member gets
    one every ``detect_cooldown_seconds`` (refusals don't count), and at most
    ``max_concurrent_detects`` run at once, bot-wide."""

    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot
        settings = parrot_bot.settings
        self.cooldown = MemberCooldown(settings.detect_cooldown_seconds, "check a clip")
        self.checks = ConcurrencyLimit(
            settings.max_concurrent_detects,
            f"I am already checking {settings.max_concurrent_detects} clip(s) for other "
            "members; try again in a few seconds.",
        )

    @app_commands.command(name="detect", description="Check whether a clip was made by Parrot")
    @app_commands.describe(clip="The audio clip to check")
    async def detect(self, interaction: discord.Interaction, clip: discord.Attachment) -> None:
        settings = self.bot.settings
        self.cooldown.check(interaction.user.id)
        check_audio_attachment(clip, max_bytes=settings.max_upload_bytes)
        with self.checks.hold():
            self.cooldown.spend(interaction.user.id)
            await interaction.response.defer(ephemeral=True, thinking=True)
            folder = settings.data_dir / "tmp" / "uploads"
            path = await download_attachment(clip, folder, max_bytes=settings.max_upload_bytes)
            try:
                check = await self.bot.engine.detect_watermark(
                    path,
                    max_bytes=settings.max_upload_bytes,
                    max_seconds=MAX_DETECT_SECONDS,
                    decode_timeout=settings.decode_timeout_seconds,
                )
            finally:
                await asyncio.to_thread(path.unlink, True)
        if check.found:
            verdict = (
                f"This clip carries Parrot's watermark (confidence {check.confidence:.0%}). "
                "Clean electronic tones can read as marked too, so for pure synthesizer "
                "music this is a hint, not proof."
            )
        else:
            verdict = (
                f"No Parrot watermark found (confidence {check.confidence:.0%}). Heavy editing or "
                "re-recording can remove it, so this is not proof either way."
            )
        await interaction.followup.send(verdict, ephemeral=True)


async def setup(parrot_bot: ParrotBot) -> None:
    await parrot_bot.add_cog(DetectCog(parrot_bot))
