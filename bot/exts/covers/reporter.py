"""A cover job's message in its channel: progress edits, the cancel button, the result.

The interaction's webhook only lives 15 minutes and is gone after a restart, so it is
used while young; after that the bot edits its message and posts in the channel with
its own token.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import discord

from bot.exts.covers import messages
from bot.exts.covers.runner import CoverUpdate
from bot.exts.covers.views import cancel_view
from bot.store.jobs import Job

if TYPE_CHECKING:
    from bot.client import ParrotBot

WEBHOOK_LIFETIME_S = 14 * 60
"""A little under Discord's 15 minutes for an interaction token."""


class DiscordCoverReporter:
    """Reports one job in its channel (``interaction`` is None for a resumed job).

    A :class:`~bot.exts.covers.runner.CoverReporter`."""

    def __init__(
        self, parrot_bot: ParrotBot, job: Job, interaction: discord.Interaction | None = None
    ) -> None:
        self.bot = parrot_bot
        self.job_id = job.id
        self.interaction = interaction
        self.created = time.monotonic()

    def _webhook_usable(self) -> bool:
        return self.interaction is not None and time.monotonic() - self.created < WEBHOOK_LIFETIME_S

    def _channel(self, job: Job) -> discord.PartialMessageable:
        assert job.channel_id is not None
        return self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)

    async def _edit(self, job: Job, content: str, view: discord.ui.View | None) -> None:
        if self._webhook_usable():
            assert self.interaction is not None
            await self.interaction.edit_original_response(content=content, view=view)
            return
        if job.message_id is None:
            raise LookupError("this job has no message to edit")
        message = self._channel(job).get_partial_message(job.message_id)
        await message.edit(content=content, view=view)

    async def _post(self, job: Job, content: str, file: discord.File | None = None) -> None:
        mentions = discord.AllowedMentions(users=[discord.Object(job.user_id or 0)])
        if self._webhook_usable():
            assert self.interaction is not None
            if file is None:
                await self.interaction.followup.send(content, allowed_mentions=mentions)
            else:
                await self.interaction.followup.send(content, file=file, allowed_mentions=mentions)
            return
        if file is None:
            await self._channel(job).send(content, allowed_mentions=mentions)
        else:
            await self._channel(job).send(content, file=file, allowed_mentions=mentions)

    # CoverReporter ----------------------------------------------------------------------------
    async def progress(self, job: Job, update: CoverUpdate) -> None:
        await self._edit(job, messages.progress_text(job, update), cancel_view(job.id))

    async def finished(self, job: Job, result: Any) -> None:
        await self._edit(job, messages.done_text(job), None)
        name = f"parrot-cover-{job.id[:6]}{result.path.suffix}"
        await self._post(
            job, messages.finished_text(job, result), discord.File(result.path, filename=name)
        )

    async def failed(self, job: Job, message: str) -> None:
        text = messages.failed_text(job, message)
        try:
            await self._edit(job, text, None)
        except (discord.HTTPException, LookupError):
            await self._post(job, f"<@{job.user_id}> {text}")

    async def cancelled(self, job: Job) -> None:
        await self._edit(job, messages.cancelled_text(job), None)
