"""``/autoread``: read a text channel aloud to the people in Parrot's voice channel."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import require_manager, require_speaker_role
from bot.errors import UserFacingError
from bot.exts.speech.normalize import normalize_for_reading
from bot.exts.speech.speaker import Speaker
from bot.store.audit import AuditAction, Who
from bot.voice.player import QueueFullError
from bot.voice_lookup import actor_of_member

if TYPE_CHECKING:
    from bot.client import ParrotBot

log = logging.getLogger(__name__)


class AutoreadCog(commands.Cog):
    def __init__(self, bot: ParrotBot, speaker: Speaker) -> None:
        self.bot = bot
        self.speaker = speaker
        self.channels: dict[int, int] = {}
        """guild id → the text channel read aloud there (mirrors the database)."""

    async def cog_load(self) -> None:
        self.channels = await self.bot.store.settings.autoread_guilds()

    @app_commands.command(name="autoread", description="Read a text channel aloud in voice")
    @app_commands.describe(
        enabled="On: read new messages aloud; off: stop",
        channel="The text channel to read (default: this one)",
    )
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def autoread(
        self,
        interaction: discord.Interaction,
        enabled: bool,
        channel: discord.TextChannel | None = None,
    ) -> None:
        member = require_manager(interaction)
        guild = member.guild
        if not enabled:
            await self._set_channel(guild.id, member.id, None)
            self.channels.pop(guild.id, None)
            await interaction.response.send_message("Stopped reading aloud.", ephemeral=True)
            return
        if not self.bot.settings.read_messages:
            raise UserFacingError(
                "Reading messages is turned off on this bot (PARROT_READ_MESSAGES=false); "
                "ask the bot owner."
            )
        target = channel or interaction.channel
        if not isinstance(target, discord.TextChannel):
            raise UserFacingError("Pick a text channel to read aloud.")
        if not target.permissions_for(guild.me).read_messages:
            raise UserFacingError(f"I can't read {target.mention}: I'm missing View Channel there.")
        await self._set_channel(guild.id, member.id, target.id)
        self.channels[guild.id] = target.id
        await interaction.response.send_message(
            f"Reading {target.mention} aloud to the people in my voice channel. "
            "Each member speaks in their `/voice default`, in their `/speech` language.",
            ephemeral=True,
        )

    async def _set_channel(self, guild_id: int, member_id: int, channel_id: int | None) -> None:
        """Store the server's auto-read channel and its audit entry together."""
        async with self.bot.store.unit_of_work() as work:
            await work.settings.update_guild(guild_id, autoread_channel_id=channel_id)
            await work.audit.record(
                AuditAction.SETTINGS,
                Who.member(member_id),
                guild_id=guild_id,
                detail={"setting": "autoread_channel", "value": channel_id},
            )

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        guild = message.guild
        if guild is None or message.author.bot or self.channels.get(guild.id) != message.channel.id:
            return
        member = message.author
        voice = guild.voice_client
        if not isinstance(member, discord.Member) or voice is None:
            return
        if member.voice is None or member.voice.channel != voice.channel:
            return  # only people who are listening get read out
        try:
            await self._read(member, message)
        except (UserFacingError, QueueFullError) as error:
            log.debug("not reading a message in guild %s: %s", guild.id, error)

    async def _read(self, member: discord.Member, message: discord.Message) -> None:
        await require_speaker_role(self.bot, member)
        settings = await self.bot.store.settings.guild(member.guild.id)
        text = normalize_for_reading(
            message.content,
            max_chars=min(settings.max_text_chars, self.bot.settings.max_text_chars),
            mention_names={m.id: m.display_name for m in message.mentions},
            channel_names={c.id: c.name for c in message.channel_mentions},
            role_names={r.id: r.name for r in message.role_mentions},
        )
        if not text:
            return
        if settings.announce_names:
            text = f"{member.display_name} says: {text}"
        voice, _ = await self.speaker.pick_voice(actor_of_member(member), None)
        params, _ = await self.speaker.speech_params(member)  # their language and style
        utterance = await self.speaker.utterance(member, voice, text, params, None)
        player = self.bot.players.for_guild(member.guild, idle_timeout=settings.idle_timeout_s)
        player.enqueue(utterance)
