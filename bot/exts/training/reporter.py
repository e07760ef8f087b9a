"""A training job's message in its channel (edited in place, with the Cancel button), and
the owner's direct message when the model is ready.

Trainings outlive the interaction's 15-minute webhook: as for covers, the webhook is used
while young, then the bot edits its message and posts with its own token.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import discord

from bot.exts.training import messages
from bot.exts.training.views import cancel_view
from bot.store.jobs import Job
from bot.training.runner import TrainingOutcome, TrainingUpdate

if TYPE_CHECKING:
    from bot.client import ParrotBot

log = logging.getLogger(__name__)

WEBHOOK_LIFETIME_S = 14 * 60
"""A little under Discord's 15 minutes for an interaction token."""


class DiscordTrainingReporter:
    """Reports one job (``interaction`` is None for a resumed job). A
    :class:`~bot.training.runner.TrainingReporter`."""

    def __init__(
        self, parrot_bot: ParrotBot, job: Job, interaction: discord.Interaction | None = None
    ) -> None:
        self.bot = parrot_bot
        self.interaction = interaction
        self.created = time.monotonic()

    def _webhook(self) -> discord.Interaction | None:
        young = time.monotonic() - self.created < WEBHOOK_LIFETIME_S
        return self.interaction if young else None

    async def _edit(self, job: Job, content: str, view: discord.ui.View | None) -> None:
        interaction = self._webhook()
        if interaction is not None:
            await interaction.edit_original_response(content=content, view=view)
            return
        if job.message_id is None or job.channel_id is None:
            raise LookupError("this job has no message to edit")
        channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        await channel.get_partial_message(job.message_id).edit(content=content, view=view)

    async def progress(self, job: Job, update: TrainingUpdate) -> None:
        await self._edit(job, messages.progress_text(job, update), cancel_view(job.id))

    async def finished(self, job: Job, outcome: TrainingOutcome) -> None:
        await self._edit(job, messages.done_text(job, outcome), None)
        await self._tell_owner(job, messages.owner_notice(job, outcome))

    async def failed(self, job: Job, message: str) -> None:
        text = messages.failed_text(job, message)
        try:
            await self._edit(job, text, None)
        except (discord.HTTPException, LookupError):
            await self._tell_owner(job, text)

    async def cancelled(self, job: Job) -> None:
        await self._edit(job, messages.cancelled_text(job), None)

    async def _tell_owner(self, job: Job, text: str) -> None:
        if job.user_id is None:
            return
        try:
            channel = await self.bot.create_dm(discord.Object(job.user_id))
            await channel.send(text)
        except discord.HTTPException as error:  # direct messages closed: the message says it
            log.info("could not tell member %s about training %s: %s", job.user_id, job.id, error)
