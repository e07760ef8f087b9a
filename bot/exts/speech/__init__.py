"""Speech in voice channels: ``/say`` and the channel controls, ``/autoread``, and each
member's language and style (``/speech``).

``/say`` and auto-read speak through one :class:`Speaker`, built here when the extension
loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.exts.speech.autoread import AutoreadCog
from bot.exts.speech.cog import SpeechCog
from bot.exts.speech.preferences import PreferencesCog
from bot.exts.speech.speaker import Speaker

if TYPE_CHECKING:
    from bot.client import ParrotBot

__all__ = ["AutoreadCog", "PreferencesCog", "Speaker", "SpeechCog", "setup"]


async def setup(bot: ParrotBot) -> None:
    speaker = Speaker(bot)
    await bot.add_cog(SpeechCog(bot, speaker))
    await bot.add_cog(AutoreadCog(bot, speaker))
    await bot.add_cog(PreferencesCog(bot))
