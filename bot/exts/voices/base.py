"""What the ``/voice`` command modules share: the one ``/voice`` group, the cog's state and
the wording of a few replies. :class:`bot.exts.voices.cog.VoicesCog` combines them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.attachments import download_attachment
from bot.errors import UserFacingError
from bot.store.models import Visibility, Voice
from bot.voices.enrolment import VoiceEnroller
from engine.api import PreparedSample

if TYPE_CHECKING:
    from bot.client import ParrotBot

VOICE_GROUP = app_commands.Group(
    name="voice", description="Enrol and manage cloned voices", guild_only=True
)
"""``/voice``: each command module adds its commands to it; the cog binds them."""

CONSENT_HELP = "This is my own voice, or its owner agreed to let me clone it"


class VoiceCommands(commands.Cog):
    """The state every ``/voice`` command uses (set by :class:`VoicesCog`'s constructor).

    A cog class because discord.py types group commands' ``self`` as one; only the
    combined cog is ever added to the bot."""

    bot: ParrotBot
    enroller: VoiceEnroller
    uploads: Path

    async def _download(self, attachment: discord.Attachment) -> Path:
        return await download_attachment(
            attachment, self.uploads, max_bytes=self.bot.settings.max_upload_bytes
        )


def require_consent(consent: bool) -> None:
    if not consent:
        raise UserFacingError(
            "I only clone your own voice, or a voice whose owner agreed to it. "
            "Set `consent` to True if that is the case."
        )


def quality_line(sample: PreparedSample) -> str:
    report = sample.quality
    line = (
        f"{sample.duration_s:.1f} s of audio ({report.speech_s:.1f} s of speech), "
        f"quality **{report.verdict}** (signal-to-noise {report.snr_db:.0f} dB)"
    )
    if report.notes:
        line += "\n" + "\n".join(f"• {note}" for note in report.notes[:3])
    return line


def visibility_text(voice: Voice) -> str:
    return {
        Visibility.PRIVATE: "private",
        Visibility.GUILD: "with its server",
        Visibility.GLOBAL: "every server (preset)",
    }[voice.visibility]
