"""The training cog: resumes trainings a restart interrupted (on the bot's
:class:`TrainingRunner`) and handles their Cancel buttons. ``/voice train`` itself is a ``/voice``
command (:mod:`bot.exts.voices.training`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from discord.ext import commands

from bot.exts.training.reporter import DiscordTrainingReporter
from bot.exts.training.views import CancelTrainingButton
from bot.store.jobs import Job
from bot.training.runner import TrainingRunner

if TYPE_CHECKING:
    from bot.client import ParrotBot

log = logging.getLogger(__name__)


class TrainingCog(commands.Cog):
    """The runner belongs to the bot (built in ``setup_hook``, closed with it: unfinished
    rows are resumed from their checkpoints at the next start); the cog resumes them and
    answers the Cancel buttons."""

    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot
        self._recovery: asyncio.Task[None] | None = None

    @property
    def runner(self) -> TrainingRunner:
        return self.bot.training_runner

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(CancelTrainingButton)
        self._recovery = asyncio.create_task(self._recover())

    async def cog_unload(self) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
        self.bot.remove_dynamic_items(CancelTrainingButton)

    async def _recover(self) -> None:
        await self.bot.wait_until_ready()
        resumed, failed = await self.runner.recover(self.reporter)
        if resumed or failed:
            log.info("after the restart: %d training(s) resumed, %d marked failed", resumed, failed)

    def reporter(self, job: Job) -> DiscordTrainingReporter:
        return DiscordTrainingReporter(self.bot, job)
