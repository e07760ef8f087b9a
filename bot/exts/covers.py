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
from bot.checks import guild_member, manages_guild, parrot_of, require_speaker_role
from bot.covers.discord_reporting import CancelCoverButton, DiscordCoverReporter, cancel_view
from bot.covers.messages import progress_text
from bot.covers.runner import KIND, CoverRunner, CoverUpdate, cover_request
from bot.errors import UserFacingError, send_ephemeral
from bot.exts.voices import VOICE_HELP
from bot.voice_lookup import actor_of, usable_voice
from engine.config import SingingMethod

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
    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot
        self.runner = CoverRunner(
            parrot_bot.store, parrot_bot.library, parrot_bot.engine, parrot_bot.settings
        )
        self._recovery: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(CancelCoverButton)
        self._recovery = asyncio.create_task(self._recover())

    async def cog_unload(self) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
        await self.runner.close()
        self.bot.remove_dynamic_items(CancelCoverButton)

    async def _recover(self) -> None:
        await self.bot.wait_until_ready()
        resumed, failed = await self.runner.recover(self._resumed_reporter)
        if resumed or failed:
            log.info("after the restart: %d cover(s) resumed, %d marked failed", resumed, failed)

    def _resumed_reporter(self, job: object) -> DiscordCoverReporter:
        return DiscordCoverReporter(self.bot, job)  # type: ignore[arg-type]

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


async def cancel_from_button(interaction: discord.Interaction, job_id: str) -> None:
    """The cancel button: only the member who asked, or a server manager, may press it."""
    parrot = parrot_of(interaction)
    job = await parrot.store.jobs.get(job_id)
    if job is None:
        await send_ephemeral(interaction, "That cover no longer exists.")
        return
    if interaction.user.id != job.user_id and not manages_guild(interaction.permissions):
        await send_ephemeral(
            interaction,
            "Only the member who asked for this cover, or a server manager, can cancel it.",
        )
        return
    cog = parrot.get_cog("CoversCog")
    assert isinstance(cog, CoversCog)
    await interaction.response.defer()
    if not await cog.runner.cancel(job_id):
        await send_ephemeral(interaction, "That cover is not running any more.")


async def setup(parrot_bot: commands.Bot) -> None:
    await parrot_bot.add_cog(CoversCog(parrot_bot))  # type: ignore[arg-type]
