"""``/privacy export`` and ``/privacy delete``: a member's own data, sent to them or erased."""

from __future__ import annotations

import asyncio
import secrets
import shutil
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError
from bot.privacy import PrivacyService, PurgeReport
from bot.training.runner import KIND as TRAINING_KIND
from bot.views import ConfirmView

if TYPE_CHECKING:
    from bot.client import ParrotBot

EXPORT_NAME = "parrot-data.zip"


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB"


def describe_deletion(report: PurgeReport) -> str:
    return (
        f"Deleted {report.voices} voice(s) with their samples and models, {report.history} history "
        f"entr{'y' if report.history == 1 else 'ies'}, your settings and jobs, and "
        f"{report.files_removed} file(s). Parrot holds nothing about you any more."
    )


class PrivacyCog(commands.Cog):
    privacy = app_commands.Group(
        name="privacy", description="Your data in Parrot: export it or delete it", guild_only=True
    )

    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot
        self.exports = parrot_bot.settings.data_dir / "tmp" / "exports"

    def _service(self) -> PrivacyService:
        return PrivacyService(self.bot.store, self.bot.settings.data_dir)

    @privacy.command(name="export", description="Get a zip of everything Parrot holds about you")
    async def export(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        limit = interaction.filesize_limit
        path = self.exports / f"{interaction.user.id}-{secrets.token_hex(4)}.zip"
        try:
            result = await self._service().export_member(interaction.user.id, path, max_bytes=limit)
            if result.size > limit:
                raise UserFacingError(
                    f"Your data is {_megabytes(result.size)} even without voice samples, more "
                    f"than I may upload here ({_megabytes(limit)}); ask the bot owner for it."
                )
            message = (
                "Here is everything Parrot holds about you: your voices with their samples "
                "and singing models (with when you gave consent), what their training used, "
                "your history, your settings and the audit "
                "trail of what you did and what was done to your voices "
                "(`parrot-data.json` describes it all)."
            )
            if result.samples_left_out:
                message += (
                    f"\n{result.samples_left_out} voice sample(s) did not fit in this server's "
                    f"upload limit ({_megabytes(limit)}), so they are listed in the file but "
                    "not included; the bot owner can send them (`parrot voices export`)."
                )
            if result.models_left_out:
                message += (
                    f"\n{result.models_left_out} singing model file(s) did not fit either; "
                    "they are listed in the file, and the bot owner can send them."
                )
            await interaction.followup.send(
                message, file=discord.File(path, filename=EXPORT_NAME), ephemeral=True
            )
        finally:
            await asyncio.to_thread(path.unlink, True)

    @privacy.command(name="delete", description="Delete all your voices, samples and history")
    async def delete(self, interaction: discord.Interaction) -> None:
        user_id = interaction.user.id
        store = self.bot.store
        voices = len(await store.voices.list(owner_id=user_id))
        history = await store.generations.count_for_user(user_id)
        view = ConfirmView(user_id, confirm_label="Delete everything")
        await interaction.response.send_message(
            f"This deletes **everything Parrot holds about you, in every server**: your "
            f"{voices} voice(s) with all their samples, training data and models, your "
            f"{history} history entries, your settings and your cover and training jobs; the "
            "audit trail keeps what was done, but not that it was you or your voices. It "
            "cannot be undone. (`/privacy export` first if you want a copy.)",
            view=view,
            ephemeral=True,
        )
        await view.wait()
        if not view.confirmed:
            await interaction.followup.send("Nothing was deleted.", ephemeral=True)
            return
        await self._cancel_jobs(user_id)
        report = await self._service().purge_member(user_id)
        await interaction.followup.send(describe_deletion(report), ephemeral=True)

    async def _cancel_jobs(self, user_id: int) -> None:
        """Stop covers and trainings of the member, or of their voices, before their rows
        go (a training's checkpoints are in the voice's folder, deleted next)."""
        voices = {voice.id for voice in await self.bot.store.voices.list(owner_id=user_id)}
        for job in await self.bot.store.jobs.unfinished():
            if job.user_id == user_id or job.voice_id in voices:
                if job.kind == TRAINING_KIND:
                    await self.bot.training_runner.cancel(job.id)
                else:
                    await self.bot.cover_runner.cancel(job.id)


async def setup(parrot_bot: ParrotBot) -> None:
    cog = PrivacyCog(parrot_bot)
    await asyncio.to_thread(shutil.rmtree, cog.exports, True)  # leftovers of a crash
    await cog._service().finish_interrupted()  # deletions a crash cut short
    await parrot_bot.add_cog(cog)
