"""``/cover``: a song sung by an enrolled voice, with live progress and a cancel button."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.attachments import check_audio_attachment, download_attachment
from bot.autocomplete import usable_voices
from bot.checks import guild_member, require_speaker_role
from bot.errors import UserFacingError
from bot.exts.covers.messages import fetching_text, progress_text
from bot.exts.covers.reporter import DiscordCoverReporter
from bot.exts.covers.request import (
    DISCORD_OPTIONS,
    KIND,
    CoverStyle,
    checked_style,
    cover_request,
    song_limits,
    song_links,
)
from bot.exts.covers.runner import CoverRunner, CoverUpdate
from bot.exts.covers.views import CancelCoverButton, cancel_view
from bot.links import SongLink
from bot.links.policy import MAX_LINK_LENGTH
from bot.store.jobs import Job
from bot.store.models import Voice
from bot.training.data import trained_singer
from bot.voice_lookup import VOICE_HELP, actor_of, usable_voice
from bot.voices.rebuild import ready_profile
from engine.api import PitchMethod, SingingMethod

if TYPE_CHECKING:
    from bot.client import ParrotBot

log = logging.getLogger(__name__)

UPLOAD_MARGIN_BYTES = 256 * 1024
"""Room for the message and multipart overhead under the upload limit."""
PITCH_METHOD_CHOICES = [
    app_commands.Choice(name="RMVPE (best on sung vocals)", value=PitchMethod.RMVPE.value),
    app_commands.Choice(name="FCPE (fast)", value=PitchMethod.FCPE.value),
    app_commands.Choice(
        name="Praat (no model; weakest on noisy vocals)", value=PitchMethod.PM.value
    ),
]
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
        self._receiving: set[int] = set()
        """Members whose song is being downloaded or fetched (no job row yet)."""
        self.links = song_links(parrot_bot.settings)
        """Songs by link; tests replace it with one open to their local server."""

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
        voice=VOICE_HELP,
        song="The song as a file: mp3, ogg, m4a, flac, wav or webm (or give a url instead)",
        url="A link to the song, e.g. on YouTube or SoundCloud (or attach it as song instead)",
        pitch="Key change in semitones for the whole song, -12 to 12 (default 0)",
        method="How the voice sings (default: automatic)",
        pitch_method="RVC: how the melody is read (default RMVPE)",
        index_rate="RVC: how much of the voice model's own timbre, 0 to 1 (default 0.75)",
        vocal_gain="Vocal level in dB, -24 to 12 (default 0)",
        instrumental_gain="Instrumental level in dB, -24 to 12 (default 0)",
        reverb="Vocal reverb, 0 (dry) to 1 (default 0.15)",
    )
    @app_commands.autocomplete(voice=usable_voices)
    @app_commands.choices(method=METHOD_CHOICES, pitch_method=PITCH_METHOD_CHOICES)
    @app_commands.guild_only()
    async def cover(
        self,
        interaction: discord.Interaction,
        voice: str,
        song: discord.Attachment | None = None,
        url: app_commands.Range[str, 1, MAX_LINK_LENGTH] | None = None,
        pitch: app_commands.Range[int, -12, 12] = 0,
        method: app_commands.Choice[str] | None = None,
        pitch_method: app_commands.Choice[str] | None = None,
        index_rate: app_commands.Range[float, 0.0, 1.0] | None = None,
        vocal_gain: app_commands.Range[float, -24.0, 12.0] | None = None,
        instrumental_gain: app_commands.Range[float, -24.0, 12.0] | None = None,
        reverb: app_commands.Range[float, 0.0, 1.0] | None = None,
    ) -> None:
        # Everything before the deferral reads only the request and the database: a cold
        # engine is touched only once Discord has its answer (its deadline is 3 s).
        member = guild_member(interaction)
        await require_speaker_role(self.bot, member, interaction.permissions)
        chosen = await usable_voice(self.bot.store, voice, actor_of(interaction))
        self._check_channel(interaction)
        source = self._song_source(song, url)
        defaults = CoverStyle()
        style = checked_style(
            CoverStyle(
                semitones=pitch,
                pitch_method=pitch_method.value if pitch_method else defaults.pitch_method,
                index_rate=defaults.index_rate if index_rate is None else index_rate,
                vocal_gain_db=defaults.vocal_gain_db if vocal_gain is None else vocal_gain,
                instrumental_gain_db=(
                    defaults.instrumental_gain_db
                    if instrumental_gain is None
                    else instrumental_gain
                ),
                reverb=defaults.reverb if reverb is None else reverb,
            ),
            DISCORD_OPTIONS,
        )
        singing_method = SingingMethod(method.value if method else SingingMethod.AUTO)
        self._check_method(
            singing_method,
            chosen.rvc_model is not None,
            rvc_options=pitch_method is not None or index_rate is not None,
        )
        await self._check_room(member)

        self._receiving.add(member.id)
        try:
            await interaction.response.defer(thinking=True)
            path, song_name = await self._receive(
                interaction, source, singing_method, chosen, style
            )
        finally:
            self._receiving.discard(member.id)
        try:
            job = await self.bot.store.jobs.create(
                kind=KIND,
                user_id=member.id,
                guild_id=member.guild.id,
                channel_id=interaction.channel_id,
                voice_id=chosen.id,
                params={
                    **cover_request(
                        song_name=song_name,
                        voice_name=chosen.name,
                        method=singing_method,
                        max_bytes=max(64 * 1024, interaction.filesize_limit - UPLOAD_MARGIN_BYTES),
                        style=style,
                        song_url=source.url if isinstance(source, SongLink) else None,
                    ),
                    **await trained_singer(self.bot.store, chosen),
                },
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
    def _check_method(method: SingingMethod, has_model: bool, *, rvc_options: bool) -> None:
        if method is SingingMethod.RVC and not has_model:
            raise UserFacingError(
                "This voice has no singing model: attach an RVC model to it with "
                "/voice singing-model, or choose the zero-shot method."
            )
        sings_rvc = method is SingingMethod.RVC or (method is SingingMethod.AUTO and has_model)
        if rvc_options and not sings_rvc:
            raise UserFacingError(
                "pitch_method and index_rate shape covers sung by an RVC model; this cover "
                "is sung zero-shot, so leave them out."
            )

    async def _check_room(self, member: discord.Member) -> None:
        limit = self.bot.settings.max_covers_per_member
        if member.id in self._receiving:
            raise UserFacingError("Your last song is still on its way to me; wait for it first.")
        active = await self.bot.store.jobs.active_for_user(member.id, KIND)
        if active >= limit:
            raise UserFacingError(
                f"You already have {active} cover(s) on the way (the limit is {limit}); "
                "wait for it or cancel it first."
            )
        self.runner.queue.check_room()

    def _song_source(
        self, song: discord.Attachment | None, url: str | None
    ) -> discord.Attachment | SongLink:
        """The attachment or the link (exactly one), checked without downloading anything."""
        if (song is None) == (url is None):
            raise UserFacingError(
                "Give me the song either as a file (`song`) or as a link (`url`), not "
                + ("both." if song is not None else "neither.")
            )
        if song is not None:
            check_audio_attachment(song, max_bytes=song_limits(self.bot.settings).max_bytes)
            return song
        assert url is not None
        return self.links.check(url)

    async def _receive(
        self,
        interaction: discord.Interaction,
        source: discord.Attachment | SongLink,
        method: SingingMethod,
        voice: Voice,
        style: CoverStyle,
    ) -> tuple[Path, str]:
        """After the deferral: the engine's models for this cover (and for zero-shot, the
        voice's conditionals for the current model), then the song on disk under the jobs
        folder and the name to show for it. A refusal here withdraws the public
        "thinking…" message first, so that only the member reads it."""
        limits = song_limits(self.bot.settings)
        folder = self.runner.jobs_dir
        bot = self.bot
        try:
            chosen = await bot.engine.check_cover_available(
                method,
                has_singing_model=voice.rvc_model is not None,
                pitch_method=style.conversion_params().pitch_method,
            )
            if chosen is SingingMethod.ZERO_SHOT:  # a voice still being prepared says so now
                await ready_profile(bot.store, bot.library, bot.engine, voice)
            if isinstance(source, discord.Attachment):
                suffix = check_audio_attachment(source, max_bytes=limits.max_bytes)
                path = await download_attachment(
                    source, folder, max_bytes=limits.max_bytes, suffix=suffix
                )
                return path, source.filename
            await interaction.edit_original_response(content=fetching_text(source.host))
            fetched = await self.links.fetch(source.url, folder)
            return fetched.path, fetched.title
        except Exception:
            await self._withdraw(interaction)
            raise

    @staticmethod
    async def _withdraw(interaction: discord.Interaction) -> None:
        """Remove the public "thinking…" message, so that the refusal that follows is seen
        by the member alone."""
        with contextlib.suppress(discord.HTTPException):
            await interaction.delete_original_response()

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
