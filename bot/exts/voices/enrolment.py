"""``/voice enroll`` and ``/voice add-sample``: a voice from clips, each with consent."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands

from bot.attachments import check_audio_attachment
from bot.autocomplete import changeable_voices
from bot.checks import guild_member, require_speaker_role
from bot.errors import UserFacingError
from bot.exts.voices.base import (
    CONSENT_HELP,
    VOICE_GROUP,
    VoiceCommands,
    quality_line,
    require_consent,
)
from bot.store.audit import Who
from bot.store.models import Consent, ConsentPath, Visibility, VoiceSource
from bot.voice_lookup import VOICE_HELP, actor_of, changeable_voice
from bot.voices.names import check_voice_name


class EnrolmentCommands(VoiceCommands):
    @VOICE_GROUP.command(name="enroll", description="Clone a voice from an audio clip")
    @app_commands.describe(
        name="What to call the voice (1-32 letters, digits, spaces, . ' - _)",
        sample="A clip of the voice speaking: 10-60 s of clear speech works best",
        consent=CONSENT_HELP,
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
        require_consent(consent)
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
        who = "everyone in this server" if shared else "only you"
        await interaction.followup.send(
            f"Enrolled **{voice.name}**, usable by {who}.\n{quality_line(prepared[0])}\n"
            "Add more clips with `/voice add-sample` to make it sound closer.",
            ephemeral=True,
        )

    @VOICE_GROUP.command(name="add-sample", description="Add another clip to one of your voices")
    @app_commands.describe(
        voice=VOICE_HELP, sample="Another clip of the same voice", consent=CONSENT_HELP
    )
    @app_commands.autocomplete(voice=changeable_voices)
    async def add_sample(
        self,
        interaction: discord.Interaction,
        voice: str,
        sample: discord.Attachment,
        consent: bool,
    ) -> None:
        require_consent(consent)
        target = await changeable_voice(self.bot.store, voice, actor_of(interaction))
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
            f"{quality_line(prepared)}",
            ephemeral=True,
        )
