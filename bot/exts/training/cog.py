"""The training cog: holds the bot's :class:`TrainingRunner`, resumes trainings a restart
interrupted, and handles their Cancel buttons. ``/voice train`` itself is a ``/voice``
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
    """Unloading it (the bot closing) stops the trainings without ending them: their rows
    stay unfinished, and the next start resumes them from their checkpoints."""

    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot
        self.runner = TrainingRunner(
            parrot_bot.store, parrot_bot.library, parrot_bot.engine, parrot_bot.settings
        )
        self._recovery: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(CancelTrainingButton)
        # Deleting a voice (any command, any way) stops its training before its files go.
        self.bot.library.on_removal(self._cancel_voice)
        self._recovery = asyncio.create_task(self._recover())

    async def cog_unload(self) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
        await self.runner.close()
        self.bot.remove_dynamic_items(CancelTrainingButton)

    async def _cancel_voice(self, voice_id: str) -> int:
        return await self.runner.cancel_voice(voice_id)

    async def _recover(self) -> None:
        await self.bot.wait_until_ready()
        resumed, failed = await self.runner.recover(self.reporter)
        if resumed or failed:
            log.info("after the restart: %d training(s) resumed, %d marked failed", resumed, failed)

    def reporter(self, job: Job) -> DiscordTrainingReporter:
        return DiscordTrainingReporter(self.bot, job)
