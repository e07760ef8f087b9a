"""``/voice list|info|rename|share|default|delete``: looking at voices and changing them.

Every change is written with its audit entry in one transaction."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.access import can_share, can_unshare, is_owner
from bot.autocomplete import changeable_voices, usable_voices
from bot.errors import UserFacingError
from bot.exts.voices.base import VOICE_GROUP, VoiceCommands, visibility_text
from bot.store.audit import AuditAction, Who
from bot.store.hides import VoiceHide
from bot.store.models import CONSENT_PATH_NAMES, Visibility, Voice, VoiceSample
from bot.training.data import trained_singer
from bot.views import ConfirmView
from bot.voice_lookup import (
    VOICE_HELP,
    actor_of,
    changeable_voice,
    find_voice,
    label,
    usable_voice,
    visible_voices,
)
from bot.voices.names import check_voice_name
from bot.voices.rebuild import (
    NOT_PREPARED,
    VoiceBeingPreparedError,
    VoiceNotPreparedError,
    preparation_notes,
    preparing_text,
    ready_profile,
)
from bot.voices.removal import delete_voice
from engine.api import VoiceNotEnrolledError


def consent_text(voice: Voice, samples: list[VoiceSample], *, full: bool) -> str:
    """The voice's consent: when and how for its owner (their data) and for presets; only
    how for the members a voice is shared with."""
    consent = voice.consent
    if consent is None:
        return "not recorded"
    if not full:
        return f"given via {CONSENT_PATH_NAMES[consent.via]}"
    text = consent.describe()
    missing = sum(1 for sample in samples if sample.consent is None)
    if missing:
        text += f" ({missing} of {len(samples)} samples without a recorded consent)"
    return text


def hide_text(hide: VoiceHide) -> str:
    reason = discord.utils.escape_markdown(hide.reason or "no reason given")
    return f"since {hide.created_at[:10]} by the moderators: {reason}"


class ManagementCommands(VoiceCommands):
    @VOICE_GROUP.command(name="list", description="The voices you can use here")
    async def list_voices(self, interaction: discord.Interaction) -> None:
        actor = actor_of(interaction)
        voices = await visible_voices(self.bot.store, actor)
        if not voices:
            await interaction.response.send_message(
                "No voices yet: enrol yours with `/voice enroll`.", ephemeral=True
            )
            return
        shown = voices[:50]
        notes = await preparation_notes(self.bot.store, self.bot.library, self.bot.engine, shown)
        lines = [
            f"• {discord.utils.escape_markdown(label(v, actor))}"
            + (f": {notes[v.id]}" if v.id in notes else "")
            for v in shown
        ]
        embed = discord.Embed(title="Voices you can use", description="\n".join(lines))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @VOICE_GROUP.command(name="info", description="Details of a voice")
    @app_commands.describe(voice=VOICE_HELP)
    @app_commands.autocomplete(voice=usable_voices)
    async def info(self, interaction: discord.Interaction, voice: str) -> None:
        actor = actor_of(interaction)
        store = self.bot.store
        target = await find_voice(store, voice, actor)
        owner = is_owner(target, actor)
        if not owner:  # the owner sees their voice even where it is hidden or not ready
            target = await usable_voice(store, target.id, actor)
        samples = await store.voices.samples(target.id)
        embed = discord.Embed(title=target.name)
        embed.add_field(
            name="Owner", value="preset" if target.owner_id is None else f"<@{target.owner_id}>"
        )
        embed.add_field(name="Shared", value=visibility_text(target))
        embed.add_field(name="Status", value=await self._status_text(target, owner))
        total = sum(s.duration_s for s in samples)
        embed.add_field(name="Samples", value=f"{len(samples)} ({total:.0f} s)")
        embed.add_field(name="Singing model", value=await self._singing_text(target))
        embed.add_field(name="Created", value=target.created_at[:10])
        full = owner or target.owner_id is None
        embed.add_field(name="Consent", value=consent_text(target, samples, full=full))
        hide = await store.hides.get(target.id, actor.guild_id)
        if hide is not None:
            embed.add_field(name="Hidden in this server", value=hide_text(hide), inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    async def _singing_text(self, voice: Voice) -> str:
        if not voice.rvc_model:
            return "none"
        trained = await trained_singer(self.bot.store, voice)
        epochs = trained.get("trained_epochs")
        return "RVC" if epochs is None else f"RVC, trained here ({epochs} epochs)"

    async def _status_text(self, voice: Voice, owner: bool) -> str:
        """Its status, or that it is being (or could not be) prepared for the new model;
        its owner reads why it could not."""
        try:
            await ready_profile(self.bot.store, self.bot.library, self.bot.engine, voice)
        except VoiceBeingPreparedError as error:
            return preparing_text(error.progress)
        except VoiceNotPreparedError as error:
            if not owner:
                return NOT_PREPARED
            return f"{NOT_PREPARED}: {discord.utils.escape_markdown(error.detail)}"[:1000]
        except VoiceNotEnrolledError:
            pass
        return str(voice.status)

    @VOICE_GROUP.command(name="rename", description="Rename one of your voices")
    @app_commands.describe(voice=VOICE_HELP, new_name="The new name")
    @app_commands.autocomplete(voice=changeable_voices)
    async def rename(
        self,
        interaction: discord.Interaction,
        voice: str,
        new_name: app_commands.Range[str, 1, 32],
    ) -> None:
        actor = actor_of(interaction)
        target = await changeable_voice(self.bot.store, voice, actor)
        name = check_voice_name(new_name)
        async with self.bot.store.unit_of_work() as work:
            await work.voices.rename(target.id, name)
            await work.audit.record(
                AuditAction.RENAME,
                Who.member(actor.user_id),
                voice=target,
                guild_id=actor.guild_id,
                detail={"from": target.name, "to": name},
            )
        await interaction.response.send_message(
            f"Renamed **{target.name}** to **{name}**.", ephemeral=True
        )

    @VOICE_GROUP.command(
        name="share", description="Share a voice with this server, or make it private"
    )
    @app_commands.describe(voice=VOICE_HELP, shared="True: everyone here may use it")
    @app_commands.autocomplete(voice=changeable_voices)
    async def share(self, interaction: discord.Interaction, voice: str, shared: bool) -> None:
        actor = actor_of(interaction)
        store = self.bot.store
        target = await changeable_voice(store, voice, actor)
        hidden = await store.hides.is_hidden(target.id, actor.guild_id)
        if not (can_share(target, actor, hidden=hidden) if shared else can_unshare(target, actor)):
            if target.guild_id != actor.guild_id:
                raise UserFacingError(
                    f"**{target.name}** was enrolled in another server; share it from there."
                )
            raise UserFacingError(
                f"**{target.name}** is hidden in this server by its moderators; it can't be "
                "shared here until they unhide it."
            )
        visibility = Visibility.GUILD if shared else Visibility.PRIVATE
        if visibility is not target.visibility:
            async with store.unit_of_work() as work:
                await work.voices.set_visibility(target.id, visibility)
                await work.audit.record(
                    AuditAction.SHARE if shared else AuditAction.UNSHARE,
                    Who.member(actor.user_id),
                    voice=target,
                    guild_id=actor.guild_id,
                )
        if shared:
            await interaction.response.send_message(
                f"**{target.name}**: everyone in this server can use it.", ephemeral=True
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.bot.recheck_voice(target.id)  # others' covers and speech with it stop
        await interaction.followup.send(f"**{target.name}**: it is private again.", ephemeral=True)

    @VOICE_GROUP.command(name="default", description="The voice Parrot uses for you in this server")
    @app_commands.describe(voice=VOICE_HELP)
    @app_commands.autocomplete(voice=usable_voices)
    async def default(self, interaction: discord.Interaction, voice: str) -> None:
        actor = actor_of(interaction)
        target = await usable_voice(self.bot.store, voice, actor)
        await self.bot.store.settings.set_member_voice(actor.guild_id, actor.user_id, target.id)
        await interaction.response.send_message(
            f"Your voice in this server is now **{target.name}**.", ephemeral=True
        )

    @VOICE_GROUP.command(name="delete", description="Delete a voice and every file of it")
    @app_commands.describe(voice=VOICE_HELP)
    @app_commands.autocomplete(voice=changeable_voices)
    async def delete(self, interaction: discord.Interaction, voice: str) -> None:
        target = await changeable_voice(self.bot.store, voice, actor_of(interaction))
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
            await delete_voice(
                self.bot.store,
                self.bot.library,
                current,
                Who.member(interaction.user.id),
                guild_id=interaction.guild_id,
            )
        await interaction.followup.send(f"Deleted **{target.name}**.", ephemeral=True)
