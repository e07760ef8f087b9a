"""``/cover``: a song sung by an enrolled voice, with live progress and a cancel button."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.attachments import check_audio_attachment, download_attachment
from bot.autocomplete import usable_voices
from bot.checks import guild_member, require_speaker_role
from bot.errors import UserFacingError
from bot.exts.covers.messages import progress_text
from bot.exts.covers.reporter import DiscordCoverReporter
from bot.exts.covers.request import KIND, cover_request
from bot.exts.covers.runner import CoverRunner, CoverUpdate
from bot.exts.covers.views import CancelCoverButton, cancel_view
from bot.store.jobs import Job
from bot.voice_lookup import VOICE_HELP, actor_of, usable_voice
from engine.api import SingingMethod

if TYPE_CHECKING:
    from bot.client import ParrotBot

log = logging.getLogger(__name__)

UPLOAD_MARGIN_BYTES = 256 * 1024
"""Room for the message and multipart overhead under the upload limit."""
METHOD_CHOICES = [
    app_commands.Choice(name="automatic (RVC when the voice has a model)", value="auto"),
    app_commands.Choice(name="RVC model", value="rvc"),
    app_commands.Choice(name="zero-shot (any enrolled voice)", value="zero-shot"),
]


class CoversCog(commands.Cog):
    """The ``/cover`` command and the resumption of covers a restart interrupted.

    The runner is the bot's (:attr:`ParrotBot.cover_runner`): built in ``setup_hook`` and
    closed with the bot, so unloading this cog only stops the recovery.
    """

    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot
        self._recovery: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(CancelCoverButton)
        self._recovery = asyncio.create_task(self._recover())

    async def cog_unload(self) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
        self.bot.remove_dynamic_items(CancelCoverButton)

    @property
    def runner(self) -> CoverRunner:
        return self.bot.cover_runner

    async def _recover(self) -> None:
        await self.bot.wait_until_ready()
        resumed, failed = await self.runner.recover(self._resumed_reporter)
        if resumed or failed:
            log.info("after the restart: %d cover(s) resumed, %d marked failed", resumed, failed)

    def _resumed_reporter(self, job: Job) -> DiscordCoverReporter:
        return DiscordCoverReporter(self.bot, job)

    @app_commands.command(name="cover", description="Sing a song in an enrolled voice")
    @app_commands.describe(
        song="The song: mp3, ogg, m4a, flac, wav or webm, up to the bot's length limit",
        voice=VOICE_HELP,
        pitch="Key change in semitones for the whole song, -12 to 12 (default 0)",
        method="How the voice sings (default: automatic)",
    )
    @app_commands.autocomplete(voice=usable_voices)
    @app_commands.choices(method=METHOD_CHOICES)
    @app_commands.guild_only()
    async def cover(
        self,
        interaction: discord.Interaction,
        song: discord.Attachment,
        voice: str,
        pitch: app_commands.Range[int, -12, 12] = 0,
        method: app_commands.Choice[str] | None = None,
    ) -> None:
        settings = self.bot.settings
        member = guild_member(interaction)
        await require_speaker_role(self.bot, member, interaction.permissions)
        chosen = await usable_voice(self.bot.store, voice, actor_of(interaction))
        self._check_channel(interaction)
        song_limit = int(settings.max_song_upload_mb * 1024 * 1024)
        suffix = check_audio_attachment(song, max_bytes=song_limit)
        active = await self.bot.store.jobs.active_for_user(member.id, KIND)
        if active >= settings.max_covers_per_member:
            raise UserFacingError(
                f"You already have {active} cover(s) on the way (the limit is "
                f"{settings.max_covers_per_member}); wait for it or cancel it first."
            )
        self.runner.queue.check_room()
        singing_method = SingingMethod(method.value if method else SingingMethod.AUTO)
        if singing_method is SingingMethod.RVC and chosen.rvc_model is None:
            raise UserFacingError(
                "This voice has no singing model: attach an RVC model to it with "
                "/voice singing-model, or choose the zero-shot method."
            )
        await self.bot.engine.check_cover_available(
            singing_method, has_singing_model=chosen.rvc_model is not None
        )

        await interaction.response.defer(thinking=True)
        path = await download_attachment(
            song, self.runner.jobs_dir, max_bytes=song_limit, suffix=suffix
        )
        try:
            job = await self.bot.store.jobs.create(
                kind=KIND,
                user_id=member.id,
                guild_id=member.guild.id,
                channel_id=interaction.channel_id,
                voice_id=chosen.id,
                params=cover_request(
                    song_name=song.filename,
                    voice_name=chosen.name,
                    semitones=pitch,
                    method=singing_method,
                    max_bytes=max(64 * 1024, interaction.filesize_limit - UPLOAD_MARGIN_BYTES),
                ),
                input_path=self.bot.library.relative(path),
            )
        except BaseException:
            await asyncio.to_thread(path.unlink, True)
            raise
        waiting = CoverUpdate(None, 0.0, self.runner.queue.waiting + 1)
        message = await interaction.edit_original_response(
            content=progress_text(job, waiting), view=cancel_view(job.id)
        )
        await self.bot.store.jobs.set_message(job.id, message.id)
        job = await self.bot.store.jobs.get(job.id) or job
        self.runner.submit(job, DiscordCoverReporter(self.bot, job, interaction))

    @staticmethod
    def _check_channel(interaction: discord.Interaction) -> None:
        """Long covers are posted with the bot's own token: it must be able to post here."""
        allowed = interaction.app_permissions
        missing = [
            name
            for name, granted in (
                ("View Channel", allowed.view_channel),
                ("Send Messages", allowed.send_messages),
                ("Attach Files", allowed.attach_files),
            )
            if not granted
        ]
        if missing:
            raise UserFacingError(
                f"I need the {', '.join(missing)} permission(s) in this channel to post "
                "covers; ask a server manager to grant them."
            )
