"""The ``/voice`` commands (:mod:`.cog` binds those of :mod:`.enrolment`, :mod:`.management`,
:mod:`.singing` and :mod:`.training`) on top of the voice library in :mod:`bot.voices`:
enrolment, archives, folders on disk and names, which the CLI, presets, covers and privacy
share without Discord. ``bot.cli.voices`` is the command-line face of the same library.
"""

from __future__ import annotations

import asyncio
import shutil
from typing import TYPE_CHECKING

from bot.exts.voices.cog import VoicesCog

if TYPE_CHECKING:
    from bot.client import ParrotBot


async def setup(parrot_bot: ParrotBot) -> None:
    uploads = parrot_bot.settings.data_dir / "tmp" / "uploads"
    await asyncio.to_thread(shutil.rmtree, uploads, True)  # leftovers of a crash
    await parrot_bot.add_cog(VoicesCog(parrot_bot))
