"""``/voice …``: one command group whose commands live in the modules beside this one
(enrolment, management, singing, training); the cog binds them and holds their state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.exts.voices.base import VOICE_GROUP
from bot.exts.voices.enrolment import EnrolmentCommands
from bot.exts.voices.management import ManagementCommands
from bot.exts.voices.preparing import StartupRebuild
from bot.exts.voices.singing import SingingCommands
from bot.exts.voices.training import TrainingCommands
from bot.runtime import sample_limits
from bot.voices.enrolment import VoiceEnroller

if TYPE_CHECKING:
    from bot.client import ParrotBot


class VoicesCog(EnrolmentCommands, ManagementCommands, SingingCommands, TrainingCommands):
    voice = VOICE_GROUP

    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot
        settings = parrot_bot.settings
        self.enroller = VoiceEnroller(
            parrot_bot.store, parrot_bot.library, parrot_bot.engine, sample_limits(settings)
        )
        self.uploads = settings.data_dir / "tmp" / "uploads"
        self._training_requests = set()
        self.rebuild = StartupRebuild(parrot_bot)
        """Voices rebuilt after login for a switched TTS model; tests may await its task."""

    async def cog_load(self) -> None:
        self.rebuild.start()

    async def cog_unload(self) -> None:
        await self.rebuild.stop()
