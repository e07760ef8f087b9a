"""The cover message's Cancel button: a dynamic item, so it works after a restart too."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.checks import manages_guild, parrot_of
from bot.errors import send_ephemeral


class CancelCoverButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"cover:cancel:(?P<job>[0-9a-f]{16})",
):
    """The job id travels in the custom id; the bot registers the class in the covers cog."""

    def __init__(self, job_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Cancel", style=discord.ButtonStyle.danger, custom_id=f"cover:cancel:{job_id}"
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> CancelCoverButton:
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await cancel_from_button(interaction, self.job_id)


def cancel_view(job_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelCoverButton(job_id))
    return view


async def cancel_from_button(interaction: discord.Interaction, job_id: str) -> None:
    """Only the member who asked, or a server manager, may cancel a cover."""
    parrot = parrot_of(interaction)
    job = await parrot.store.jobs.get(job_id)
    if job is None:
        await send_ephemeral(interaction, "That cover no longer exists.")
        return
    if interaction.user.id != job.user_id and not manages_guild(interaction.permissions):
        await send_ephemeral(
            interaction,
            "Only the member who asked for this cover, or a server manager, can cancel it.",
        )
        return
    await interaction.response.defer()
    if not await parrot.cover_runner.cancel(job_id):
        await send_ephemeral(interaction, "That cover is not running any more.")
