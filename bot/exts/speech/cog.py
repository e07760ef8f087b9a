"""``/say`` and the voice-channel controls: /join, /leave, /skip, /stop, /queue."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import model_languages, usable_voices
from bot.checks import guild_member, manages_guild, require_speaker_role
from bot.errors import UserFacingError
from bot.exts.speech.normalize import normalize_for_reading
from bot.exts.speech.speaker import Speaker
from bot.exts.speech.style import SEED_MAX, STYLE_HELP, StyleRequest
from bot.limits import MemberCooldown
from bot.voice.connect import members_channel
from bot.voice.player import Utterance
from bot.voice_lookup import actor_of

if TYPE_CHECKING:
    from bot.client import ParrotBot

log = logging.getLogger(__name__)


class SpeechCog(commands.Cog):
    def __init__(self, bot: ParrotBot, speaker: Speaker) -> None:
        self.bot = bot
        self.speaker = speaker
        self.cooldown = MemberCooldown(bot.settings.say_cooldown_seconds, "say something")
        """Spent only by accepted requests: a refusal leaves the member's next try free."""

    # /say --------------------------------------------------------------------------------
    @app_commands.command(name="say", description="Say something in your voice channel")
    @app_commands.describe(
        text="What to say",
        voice="Whose voice (default: yours)",
        language="The language of the text (default: yours, see /speech)",
        **STYLE_HELP,
    )
    @app_commands.autocomplete(voice=usable_voices, language=model_languages)
    @app_commands.guild_only()
    async def say(
        self,
        interaction: discord.Interaction,
        text: app_commands.Range[str, 1, 2000],
        voice: str | None = None,
        language: str | None = None,
        expressiveness: app_commands.Range[float, 0.0, 2.0] | None = None,
        guidance: app_commands.Range[float, 0.0, 1.0] | None = None,
        temperature: app_commands.Range[float, 0.0, 2.0] | None = None,
        seed: app_commands.Range[int, 0, SEED_MAX] | None = None,
    ) -> None:
        member = guild_member(interaction)
        key = (member.guild.id, member.id)
        self.cooldown.check(key)  # spent below, once the request is accepted
        await require_speaker_role(self.bot, member, interaction.permissions)
        settings = await self.bot.store.settings.guild(member.guild.id)
        limit = min(settings.max_text_chars, self.bot.settings.max_text_chars)
        if len(text) > limit:
            raise UserFacingError(f"That is {len(text)} characters; the limit here is {limit}.")
        spoken = normalize_for_reading(text)
        if not spoken:
            raise UserFacingError("There is nothing I can say aloud in that text.")
        members_channel(member)  # before choosing a voice: the commonest mistake first
        asked = StyleRequest(expressiveness, guidance, temperature, seed)
        params, notes = await self.speaker.speech_params(member, asked=asked, language=language)
        chosen, notice = await self.speaker.pick_voice(actor_of(interaction), voice)
        await interaction.response.defer(ephemeral=True, thinking=True)

        async def notify(message: str) -> None:
            await interaction.followup.send(message, ephemeral=True)

        utterance = await self.speaker.utterance(member, chosen, spoken, params, notify)
        player, channel = await self.speaker.join(member)
        self.cooldown.check(key)  # again: another /say may have been accepted meanwhile
        ahead = player.enqueue(utterance)  # no await from the check to the spend
        self.cooldown.spend(key)
        status = "Saying it now" if ahead == 0 else f"Queued, {ahead} ahead"
        reply = f"{status} in {channel.mention} with **{chosen.name}**"
        if params.language is not None and not self.bot.engine.tts_model.english_only:
            reply += f" in {self.bot.engine.tts_model.language_name(params.language)}"
        reply = "\n".join([reply + ".", *([notice] if notice else []), *notes])
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
