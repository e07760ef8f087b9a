"""Background upkeep: honour ``parrot models unload`` requests from the admin CLI."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from discord.ext import commands, tasks

from bot.runtime import UNLOAD_REQUEST

if TYPE_CHECKING:
    from bot.client import ParrotBot

log = logging.getLogger(__name__)


class MaintenanceCog(commands.Cog):
    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot
        self.request = parrot_bot.settings.data_dir / UNLOAD_REQUEST
        self.watch_unload_requests.start()

    async def cog_unload(self) -> None:
        self.watch_unload_requests.cancel()

    @tasks.loop(seconds=2)
    async def watch_unload_requests(self) -> None:
        if not await asyncio.to_thread(self.request.exists):
            return
        released = await self.bot.engine.unload()
        await asyncio.to_thread(self.request.unlink, True)
        log.info("unloaded models on request: %s", ", ".join(released) or "none were loaded")


async def setup(parrot_bot: ParrotBot) -> None:
    await parrot_bot.add_cog(MaintenanceCog(parrot_bot))
