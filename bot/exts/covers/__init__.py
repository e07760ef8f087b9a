"""Covers: a song sung by an enrolled voice, as a Discord job and from the CLI.

- :mod:`.cog`: ``/cover`` and the resumption of interrupted jobs after a restart;
- :mod:`.views`: the Cancel button; :mod:`.reporter`: the job's message in its channel;
- :mod:`.messages`: what that message says (plain text);
- :mod:`.runner` and :mod:`.queue`: jobs waiting their turn and running on the engine
  (no Discord; one runner per bot, ``ParrotBot.cover_runner``);
- :mod:`.request`: what a job row keeps of its request;
- :mod:`.singing_models`: a voice's RVC model, attached, found and detached.

``bot.cli.covers`` is the command-line face of the same package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.exts.covers.cog import CoversCog

if TYPE_CHECKING:
    from bot.client import ParrotBot


async def setup(bot: ParrotBot) -> None:
    await bot.add_cog(CoversCog(bot))
