"""``/say`` and the voice-channel controls: /join, /leave, /skip, /stop, /queue."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import usable_voices
from bot.checks import guild_member, manages_guild, parrot_of, require_speaker_role
from bot.errors import UserFacingError
from bot.exts.speech.normalize import normalize_for_reading
from bot.exts.speech.speaker import Speaker
from bot.voice.connect import members_channel
from bot.voice.player import Utterance
from bot.voice_lookup import actor_of

if TYPE_CHECKING:
    from bot.client import ParrotBot

log = logging.getLogger(__name__)


def _cooldown_key(interaction: discord.Interaction) -> tuple[int | None, int]:
    return (interaction.guild_id, interaction.user.id)


def _say_cooldown(interaction: discord.Interaction) -> app_commands.Cooldown | None:
    seconds = parrot_of(interaction).settings.say_cooldown_seconds
    return app_commands.Cooldown(1, seconds) if seconds > 0 else None


class SpeechCog(commands.Cog):
    def __init__(self, bot: ParrotBot, speaker: Speaker) -> None:
        self.bot = bot
        self.speaker = speaker

    # /say --------------------------------------------------------------------------------
    @app_commands.command(name="say", description="Say something in your voice channel")
    @app_commands.describe(text="What to say", voice="Whose voice (default: yours)")
    @app_commands.autocomplete(voice=usable_voices)
    @app_commands.checks.dynamic_cooldown(_say_cooldown, key=_cooldown_key)
    @app_commands.guild_only()
    async def say(
        self,
        interaction: discord.Interaction,
        text: app_commands.Range[str, 1, 2000],
        voice: str | None = None,
    ) -> None:
        member = guild_member(interaction)
        await require_speaker_role(self.bot, member, interaction.permissions)
        settings = await self.bot.store.settings.guild(member.guild.id)
        limit = min(settings.max_text_chars, self.bot.settings.max_text_chars)
        if len(text) > limit:
            raise UserFacingError(f"That is {len(text)} characters; the limit here is {limit}.")
        spoken = normalize_for_reading(text)
        if not spoken:
            raise UserFacingError("There is nothing I can say aloud in that text.")
        members_channel(member)  # before choosing a voice: the commonest mistake first
        chosen, notice = await self.speaker.pick_voice(actor_of(interaction), voice)
        await interaction.response.defer(ephemeral=True, thinking=True)

        async def notify(message: str) -> None:
            await interaction.followup.send(message, ephemeral=True)

        utterance = await self.speaker.utterance(member, chosen, spoken, notify)
        player, channel = await self.speaker.join(member)
        ahead = player.enqueue(utterance)
        status = "Saying it now" if ahead == 0 else f"Queued, {ahead} ahead"
        reply = f"{status} in {channel.mention} with **{chosen.name}**."
        if notice:
            reply += f"\n{notice}"
        await interaction.followup.send(reply, ephemeral=True)

    # channel controls --------------------------------------------------------------------
    @app_commands.command(name="join", description="Bring Parrot into your voice channel")
    @app_commands.guild_only()
    async def join(self, interaction: discord.Interaction) -> None:
        member = guild_member(interaction)
        await require_speaker_role(self.bot, member, interaction.permissions)
        await interaction.response.defer(ephemeral=True, thinking=True)
        _, channel = await self.speaker.join(member)
        await interaction.followup.send(f"Joined {channel.mention}.", ephemeral=True)

    @app_commands.command(name="leave", description="Make Parrot leave the voice channel")
    @app_commands.guild_only()
    async def leave(self, interaction: discord.Interaction) -> None:
        member = guild_member(interaction)
        self._require_listener(member, interaction.permissions)
        await interaction.response.defer(ephemeral=True)
        left = await self.bot.players.leave(member.guild)
        await interaction.followup.send(
            "Left the voice channel." if left else "I'm not in a voice channel.", ephemeral=True
        )

    @app_commands.command(name="skip", description="Skip what Parrot is saying now")
    @app_commands.guild_only()
    async def skip(self, interaction: discord.Interaction) -> None:
        member = guild_member(interaction)
        self._require_listener(member, interaction.permissions)
        player = self.bot.players.get(member.guild.id)
        skipped = player is not None and player.skip()
        await interaction.response.send_message(
            "Skipped." if skipped else "Nothing is playing.", ephemeral=True
        )

    @app_commands.command(name="stop", description="Stop speaking and clear the queue")
    @app_commands.guild_only()
    async def stop(self, interaction: discord.Interaction) -> None:
        member = guild_member(interaction)
        self._require_listener(member, interaction.permissions)
        player = self.bot.players.get(member.guild.id)
        dropped = player.stop() if player is not None else 0
        await interaction.response.send_message(
            f"Stopped, and cleared {dropped} waiting." if dropped else "Stopped.", ephemeral=True
        )

    @app_commands.command(name="queue", description="What Parrot is saying and what waits")
    @app_commands.guild_only()
    async def queue(self, interaction: discord.Interaction) -> None:
        member = guild_member(interaction)
        player = self.bot.players.get(member.guild.id)
        if player is None or not player.busy:
            await interaction.response.send_message("The queue is empty.", ephemeral=True)
            return
        lines = []
        if player.current is not None:
            lines.append(f"▶ {_describe(player.current)}")
        lines += [f"{n}. {_describe(u)}" for n, u in enumerate(player.pending[:15], start=1)]
        embed = discord.Embed(title="Speech queue", description="\n".join(lines))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    def _require_listener(self, member: discord.Member, permissions: discord.Permissions) -> None:
        """Only people in the bot's channel (or server managers) may control playback."""
        voice = member.guild.voice_client
        if voice is None:
            return
        if manages_guild(permissions) or permissions.move_members:
            return
        if member.voice is None or member.voice.channel != voice.channel:
            raise UserFacingError("Join my voice channel to control what I say.")

    # voice state -------------------------------------------------------------------------
    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        guild = member.guild
        if self.bot.user is not None and member.id == self.bot.user.id:
            if after.channel is None:  # disconnected by someone, or the channel went away
                await self.bot.players.forget(guild.id)
            return
        voice = guild.voice_client
        if not isinstance(voice, discord.VoiceClient):
            return
        if before.channel != voice.channel or after.channel == before.channel:
            return
        if not any(not m.bot for m in voice.channel.members):
            log.info("everyone left the voice channel in guild %s; leaving too", guild.id)
            await self.bot.players.leave(guild)


def _describe(utterance: Utterance) -> str:
    text = utterance.text if len(utterance.text) <= 60 else utterance.text[:57] + "…"
    return f"**{utterance.voice_name}** for <@{utterance.requester_id}>: {text}"
