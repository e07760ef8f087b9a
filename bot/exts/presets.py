"""Imports the preset voices of ``references/`` at start-up, in the background.

Login is not held up: unchanged references cost a hash each, and enrolment runs on the
engine's executor while the bot already answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from discord.ext import commands

from bot.presets import ImportReport, preset_importer

if TYPE_CHECKING:
    from bot.client import ParrotBot

log = logging.getLogger(__name__)


class PresetsCog(commands.Cog):
    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot
        self.import_task: asyncio.Task[ImportReport | None] | None = None
        """The start-up import; tests and the admin may await it."""

    async def cog_load(self) -> None:
        self.import_task = asyncio.create_task(self._import(), name="parrot-preset-import")

    async def cog_unload(self) -> None:
        if self.import_task is not None and not self.import_task.done():
            self.import_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.import_task

    async def _import(self) -> ImportReport | None:
        importer = preset_importer(self.bot.store, self.bot.engine, self.bot.settings)
        try:
            report = await importer.import_all()
        except Exception:  # the bot keeps running; `parrot voices import-references` retries
            log.exception("importing the preset voices failed")
            return None
        log.info("preset voices from %s: %s", report.folder, report.summary())
        return report


async def setup(parrot_bot: ParrotBot) -> None:
    await parrot_bot.add_cog(PresetsCog(parrot_bot))
