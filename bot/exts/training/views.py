"""A training message's Cancel button (dynamic: it works after a restart too)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.checks import parrot_of
from bot.errors import send_ephemeral

if TYPE_CHECKING:
    from bot.training.runner import TrainingRunner


class CancelTrainingButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"training:cancel:(?P<job>[0-9a-f]{16})",
):
    """The job id travels in the custom id; the training cog registers the class."""

    def __init__(self, job_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Cancel",
                style=discord.ButtonStyle.danger,
                custom_id=f"training:cancel:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> CancelTrainingButton:
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await cancel_from_button(interaction, self.job_id)


def cancel_view(job_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelTrainingButton(job_id))
    return view


def runner_of(interaction: discord.Interaction) -> TrainingRunner:
    return parrot_of(interaction).training_runner


async def cancel_from_button(interaction: discord.Interaction, job_id: str) -> None:
    """Only the voice's owner (who asked for the training) may cancel it."""
    parrot = parrot_of(interaction)
    job = await parrot.store.jobs.get(job_id)
    if job is None:
        await send_ephemeral(interaction, "That training no longer exists.")
        return
    if interaction.user.id != job.user_id:
        await send_ephemeral(interaction, "Only the owner of this voice can cancel its training.")
        return
    await interaction.response.defer()
    if not await runner_of(interaction).cancel(job_id):
        await send_ephemeral(interaction, "That training is not running any more.")
