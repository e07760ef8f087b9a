"""``/voice …``: enrol voices from attachments and manage them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.attachments import check_audio_attachment, check_file_attachment, download_attachment
from bot.autocomplete import manageable_voices, usable_voices
from bot.checks import guild_member, require_speaker_role
from bot.errors import UserFacingError, describe_failure
from bot.exts.covers.singing_models import attach_singing_model, detach_singing_model
from bot.runtime import sample_limits
from bot.store.audit import Who
from bot.store.models import Consent, ConsentPath, Visibility, Voice, VoiceSource
from bot.views import ConfirmView
from bot.voice_lookup import (
    VOICE_HELP,
    actor_of,
    label,
    manageable_voice,
    usable_voice,
    visible_voices,
)
from bot.voices.enrolment import VoiceEnroller
from bot.voices.names import check_voice_name
from engine.api import PreparedSample

if TYPE_CHECKING:
    from bot.client import ParrotBot


def _quality_line(sample: PreparedSample) -> str:
    report = sample.quality
    line = (
        f"{sample.duration_s:.1f} s of audio ({report.speech_s:.1f} s of speech), "
        f"quality **{report.verdict}** (signal-to-noise {report.snr_db:.0f} dB)"
    )
    if report.notes:
        line += "\n" + "\n".join(f"• {note}" for note in report.notes[:3])
    return line


class VoicesCog(commands.Cog):
    voice = app_commands.Group(
        name="voice", description="Enrol and manage cloned voices", guild_only=True
    )

    def __init__(self, parrot_bot: ParrotBot) -> None:
        self.bot = parrot_bot
        settings = parrot_bot.settings
        self.enroller = VoiceEnroller(
            parrot_bot.store, parrot_bot.library, parrot_bot.engine, sample_limits(settings)
        )
        self.uploads = settings.data_dir / "tmp" / "uploads"

    async def _download(self, attachment: discord.Attachment) -> Path:
        return await download_attachment(
            attachment, self.uploads, max_bytes=self.bot.settings.max_upload_bytes
        )

    # enrolment ---------------------------------------------------------------------------
    @voice.command(name="enroll", description="Clone a voice from an audio clip")
    @app_commands.describe(
        name="What to call the voice (1-32 letters, digits, spaces, . ' - _)",
        sample="A clip of the voice speaking: 10-60 s of clear speech works best",
        consent="This is my own voice, or its owner agreed to let me clone it",
        shared="Let everyone in this server use it (default: only you)",
    )
    async def enroll(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 32],
        sample: discord.Attachment,
        consent: bool,
        shared: bool = False,
    ) -> None:
        member = guild_member(interaction)
        await require_speaker_role(self.bot, member, interaction.permissions)
        if not consent:
            raise UserFacingError(
                "I only clone your own voice, or a voice whose owner agreed to it. "
                "Set `consent` to True if that is the case."
            )
        name = check_voice_name(name)
        owned = await self.bot.store.voices.list(owner_id=member.id)
        limit = self.bot.settings.max_voices_per_member
        if len(owned) >= limit:
            raise UserFacingError(
                f"You already have {len(owned)} voices (the limit is {limit}); "
                "delete one with `/voice delete` first."
            )
        check_audio_attachment(sample, max_bytes=self.bot.settings.max_upload_bytes)
        await interaction.response.defer(ephemeral=True, thinking=True)
        path = await self._download(sample)
        try:
            voice, prepared = await self.enroller.enroll(
                name,
                [path],
                owner_id=member.id,
                guild_id=member.guild.id,
                visibility=Visibility.GUILD if shared else Visibility.PRIVATE,
                source=VoiceSource.UPLOAD,
                consent=Consent.now(ConsentPath.DISCORD),
                who=Who.member(member.id),
                original_names=[sample.filename],
            )
        finally:
            await asyncio.to_thread(path.unlink, True)
        who = "everyone in this server" if shared else "only you (and server managers)"
        await interaction.followup.send(
            f"Enrolled **{voice.name}**, usable by {who}.\n{_quality_line(prepared[0])}\n"
            "Add more clips with `/voice add-sample` to make it sound closer.",
            ephemeral=True,
        )

    @voice.command(name="add-sample", description="Add another clip to one of your voices")
    @app_commands.describe(voice=VOICE_HELP, sample="Another clip of the same voice")
    @app_commands.autocomplete(voice=manageable_voices)
    async def add_sample(
        self, interaction: discord.Interaction, voice: str, sample: discord.Attachment
    ) -> None:
        target = await manageable_voice(self.bot.store, voice, actor_of(interaction))
        samples = await self.bot.store.voices.samples(target.id)
        limit = self.bot.settings.max_samples_per_voice
        if len(samples) >= limit:
            raise UserFacingError(f"**{target.name}** already has {limit} samples, the most.")
        check_audio_attachment(sample, max_bytes=self.bot.settings.max_upload_bytes)
        await interaction.response.defer(ephemeral=True, thinking=True)
        path = await self._download(sample)
        try:
            updated, prepared = await self.enroller.add_sample(
                target,
                path,
                original_name=sample.filename,
                consent=Consent.now(ConsentPath.DISCORD),
                who=Who.member(interaction.user.id),
                guild_id=interaction.guild_id,
            )
        finally:
            await asyncio.to_thread(path.unlink, True)
        await interaction.followup.send(
            f"Added a sample to **{updated.name}** ({len(samples) + 1} in all).\n"
            f"{_quality_line(prepared)}",
            ephemeral=True,
        )

    # looking -----------------------------------------------------------------------------
    @voice.command(name="list", description="The voices you can use here")
    async def list_voices(self, interaction: discord.Interaction) -> None:
        actor = actor_of(interaction)
        voices = await visible_voices(self.bot.store, actor)
        if not voices:
            await interaction.response.send_message(
                "No voices yet: enrol yours with `/voice enroll`.", ephemeral=True
            )
            return
        lines = [f"• {discord.utils.escape_markdown(label(v, actor))}" for v in voices[:50]]
        embed = discord.Embed(title="Voices you can use", description="\n".join(lines))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @voice.command(name="info", description="Details of a voice")
    @app_commands.describe(voice=VOICE_HELP)
    @app_commands.autocomplete(voice=usable_voices)
    async def info(self, interaction: discord.Interaction, voice: str) -> None:
        actor = actor_of(interaction)
        target = await usable_voice(self.bot.store, voice, actor)
        samples = await self.bot.store.voices.samples(target.id)
        embed = discord.Embed(title=target.name)
        owner = "preset" if target.owner_id is None else f"<@{target.owner_id}>"
        embed.add_field(name="Owner", value=owner)
        embed.add_field(name="Shared", value=_visibility_text(target))
        embed.add_field(name="Status", value=str(target.status))
        total = sum(s.duration_s for s in samples)
        embed.add_field(name="Samples", value=f"{len(samples)} ({total:.0f} s)")
        embed.add_field(name="Singing model", value="RVC" if target.rvc_model else "none")
        embed.add_field(name="Created", value=target.created_at[:10])
        await interaction.response.send_message(embed=embed, ephemeral=True)

    # changing ----------------------------------------------------------------------------
    @voice.command(name="rename", description="Rename one of your voices")
    @app_commands.describe(voice=VOICE_HELP, new_name="The new name")
    @app_commands.autocomplete(voice=manageable_voices)
    async def rename(
        self,
        interaction: discord.Interaction,
        voice: str,
        new_name: app_commands.Range[str, 1, 32],
    ) -> None:
        target = await manageable_voice(self.bot.store, voice, actor_of(interaction))
        name = check_voice_name(new_name)
        await self.bot.store.voices.rename(target.id, name)
        await interaction.response.send_message(
            f"Renamed **{target.name}** to **{name}**.", ephemeral=True
        )

    @voice.command(name="share", description="Share a voice with this server, or make it private")
    @app_commands.describe(voice=VOICE_HELP, shared="True: everyone here may use it")
    @app_commands.autocomplete(voice=manageable_voices)
    async def share(self, interaction: discord.Interaction, voice: str, shared: bool) -> None:
        actor = actor_of(interaction)
        target = await manageable_voice(self.bot.store, voice, actor)
        if target.guild_id != actor.guild_id:
            raise UserFacingError(
                f"**{target.name}** was enrolled in another server; share it from there."
            )
        visibility = Visibility.GUILD if shared else Visibility.PRIVATE
        await self.bot.store.voices.set_visibility(target.id, visibility)
        text = "everyone in this server can use it" if shared else "it is private again"
        await interaction.response.send_message(f"**{target.name}**: {text}.", ephemeral=True)

    @voice.command(name="default", description="The voice Parrot uses for you in this server")
    @app_commands.describe(voice=VOICE_HELP)
    @app_commands.autocomplete(voice=usable_voices)
    async def default(self, interaction: discord.Interaction, voice: str) -> None:
        actor = actor_of(interaction)
        target = await usable_voice(self.bot.store, voice, actor)
        await self.bot.store.settings.set_member_voice(actor.guild_id, actor.user_id, target.id)
        await interaction.response.send_message(
            f"Your voice in this server is now **{target.name}**.", ephemeral=True
        )

    # singing ---------------------------------------------------------------------------
    @voice.command(name="singing-model", description="Give one of your voices an RVC model")
    @app_commands.describe(
        voice=VOICE_HELP,
        model="The voice's RVC model (.pth, v1 or v2, 32/40/48 kHz)",
        index="Its feature index (.index), optional: makes the voice closer",
    )
    @app_commands.autocomplete(voice=manageable_voices)
    async def singing_model(
        self,
        interaction: discord.Interaction,
        voice: str,
        model: discord.Attachment,
        index: discord.Attachment | None = None,
    ) -> None:
        target = await manageable_voice(self.bot.store, voice, actor_of(interaction))
        limit = int(self.bot.settings.max_model_upload_mb * 1024 * 1024)
        check_file_attachment(model, suffix=".pth", what="an RVC model", max_bytes=limit)
        if index is not None:
            check_file_attachment(index, suffix=".index", what="an RVC index", max_bytes=limit)
        await interaction.response.defer(ephemeral=True, thinking=True)
        uploads = [(model, ".pth")] + ([(index, ".index")] if index is not None else [])
        paths = []
        try:
            for attachment, suffix in uploads:
                paths.append(
                    await download_attachment(
                        attachment, self.uploads, max_bytes=limit, suffix=suffix
                    )
                )
            info = await attach_singing_model(
                self.bot.store,
                self.bot.library,
                self.bot.engine,
                target,
                paths[0],
                paths[1] if len(paths) > 1 else None,
            )
        except Exception as error:
            shown = _with_shown_names(error, zip(paths, [a for a, _ in uploads], strict=False))
            if shown is error:
                raise
            raise shown from error
        finally:
            for path in paths:
                await asyncio.to_thread(path.unlink, True)
        extra = " and its index" if index is not None else ""
        await interaction.followup.send(
            f"**{target.name}** now sings covers with its RVC model{extra} ({info}). "
            "Try it with `/cover`.",
            ephemeral=True,
        )

    @voice.command(name="forget-singing-model", description="Remove a voice's RVC model")
    @app_commands.describe(voice=VOICE_HELP)
    @app_commands.autocomplete(voice=manageable_voices)
    async def forget_singing_model(self, interaction: discord.Interaction, voice: str) -> None:
        target = await manageable_voice(self.bot.store, voice, actor_of(interaction))
        if not await detach_singing_model(self.bot.store, self.bot.library, target):
            raise UserFacingError(f"**{target.name}** has no singing model.")
        await interaction.response.send_message(
            f"Removed the singing model of **{target.name}**; it sings zero-shot again.",
            ephemeral=True,
        )

    @voice.command(name="delete", description="Delete a voice and every file of it")
    @app_commands.describe(voice=VOICE_HELP)
    @app_commands.autocomplete(voice=manageable_voices)
    async def delete(self, interaction: discord.Interaction, voice: str) -> None:
        target = await manageable_voice(self.bot.store, voice, actor_of(interaction))
        view = ConfirmView(interaction.user.id, confirm_label="Delete")
        await interaction.response.send_message(
            f"Delete **{target.name}** with all its samples? This cannot be undone.",
            view=view,
            ephemeral=True,
        )
        await view.wait()
        if not view.confirmed:
            await interaction.followup.send(f"Kept **{target.name}**.", ephemeral=True)
            return
        current = await self.bot.store.voices.get(target.id)
        if current is not None:
            await self.bot.library.delete(current)
        await interaction.followup.send(f"Deleted **{target.name}**.", ephemeral=True)


def _with_shown_names(
    error: Exception, saved: Iterable[tuple[Path, discord.Attachment]]
) -> Exception:
    """A described failure worded with the member's file names instead of ours."""
    message = describe_failure(error)
    if message is None:
        return error
    for path, attachment in saved:
        shown = discord.utils.escape_markdown(attachment.filename)[:80]
        message = message.replace(path.name, shown)
    return UserFacingError(message)


def _visibility_text(voice: Voice) -> str:
    return {
        Visibility.PRIVATE: "private",
        Visibility.GUILD: "with its server",
        Visibility.GLOBAL: "every server (preset)",
    }[voice.visibility]
