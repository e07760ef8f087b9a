"""Training jobs in Discord: :mod:`.cog` holds the bot's runner and resumes jobs after a
restart; :mod:`.reporter` keeps the job's message; :mod:`.views` its Cancel button;
:mod:`.messages` what they say. The runner itself is :mod:`bot.training.runner`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.exts.training.cog import TrainingCog

if TYPE_CHECKING:
    from bot.client import ParrotBot


async def setup(bot: ParrotBot) -> None:
    await bot.add_cog(TrainingCog(bot))
