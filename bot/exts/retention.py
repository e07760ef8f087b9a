"""Deletes generated audio older than ``PARROT_RETENTION_DAYS``: at start-up, then daily."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from discord.ext import commands, tasks

from bot.privacy import PrivacyService, RetentionReport

if TYPE_CHECKING:
    from bot.client import ParrotBot

log = logging.getLogger(__name__)


class RetentionCog(commands.Cog):
    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot
        self.last_report: RetentionReport | None = None

    async def cog_load(self) -> None:
        if self.bot.settings.retention_days > 0:
            self.expire.start()  # the first run happens right away

    async def cog_unload(self) -> None:
        self.expire.cancel()

    @tasks.loop(hours=24)
    async def expire(self) -> None:
        service = PrivacyService(self.bot.store, self.bot.settings.data_dir)
        try:
            self.last_report = await service.expire_audio(self.bot.settings.retention_days)
        except Exception:  # tried again tomorrow
            log.exception("deleting expired audio failed")


async def setup(parrot_bot: ParrotBot) -> None:
    await parrot_bot.add_cog(RetentionCog(parrot_bot))
