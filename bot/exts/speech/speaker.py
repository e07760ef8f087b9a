"""Speaking for a member: which voice, which player, and the utterance to queue.

One :class:`Speaker` is built when the speech extension loads and handed to both cogs, so
``/say`` and ``/autoread`` share it without looking each other up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.access import Actor
from bot.errors import UserFacingError
from bot.exts.speech.style import StyleRequest, speaking_params
from bot.store.models import Voice
from bot.voice.connect import VocalChannel, ensure_connected, members_channel
from bot.voice.player import GuildPlayer, Notify, PlaybackReport, Utterance
from bot.voice_lookup import default_voice, usable_voice
from bot.voices.rebuild import ready_profile
from engine.api import SpeechParams

if TYPE_CHECKING:
    from bot.client import ParrotBot


class Speaker:
    """Turns "say this for that member" into a queued utterance on the server's player."""

    def __init__(self, bot: ParrotBot) -> None:
        self.bot = bot

    async def pick_voice(self, actor: Actor, reference: str | None) -> tuple[Voice, str | None]:
        """The named voice, else the member's or server's default (with a notice if the
        member's default went away)."""
        if reference:
            return await usable_voice(self.bot.store, reference, actor), None
        resolved = await default_voice(self.bot.store, actor)
        if resolved is None:
            raise UserFacingError(
                "Pick a voice with the `voice` option, or set yours with `/voice default`."
            )
        return resolved.voice, resolved.notice

    async def speech_params(
        self,
        member: discord.Member,
        *,
        asked: StyleRequest | None = None,
        language: str | None = None,
    ) -> tuple[SpeechParams, list[str]]:
        """How to speak for the member: what they asked for (``language`` as typed), else
        their saved preferences here, else the server's language; notes for them."""
        settings = self.bot.store.settings
        saved = await settings.preferences(member.guild.id, member.id)
        server = await settings.guild(member.guild.id)
        return speaking_params(
            self.bot.settings,
            self.bot.engine.tts_model,
            asked=asked or StyleRequest(),
            language=language,
            saved=saved,
            server_language=server.default_language,
        )

    async def join(self, member: discord.Member) -> tuple[GuildPlayer, VocalChannel]:
        """Join the member's voice channel (or be there already): the player and the channel."""
        channel = members_channel(member)
        guild = member.guild
        current = self.bot.players.get(guild.id)
        voice = await ensure_connected(
            guild,
            channel,
            busy=current is not None and current.busy,
            connect_timeout=self.bot.settings.voice_connect_timeout_seconds,
        )
        settings = await self.bot.store.settings.guild(guild.id)
        player = self.bot.players.for_guild(guild, idle_timeout=settings.idle_timeout_s)
        return player, voice.channel

    async def utterance(
        self,
        member: discord.Member,
        voice: Voice,
        text: str,
        params: SpeechParams,
        notify: Notify | None,
    ) -> Utterance:
        """What to queue: the voice's profile (enrolled for the current model), how to speak
        (:meth:`speech_params`), and a record in the history once it has played."""
        profile = await ready_profile(self.bot.store, self.bot.library, self.bot.engine, voice)
        await self.bot.engine.check_model_available()

        async def record(done: Utterance, report: PlaybackReport) -> None:
            await self.bot.store.generations.record(
                kind="speech",
                user_id=member.id,
                guild_id=member.guild.id,
                voice_id=done.voice_id,
                characters=len(done.text),
                audio_seconds=report.audio_seconds,
                elapsed_seconds=report.elapsed_seconds,
                method=profile.backend,
            )

        return Utterance(
            text=text,
            voice_id=voice.id,
            voice_name=voice.name,
            profile=profile,
            requester_id=member.id,
            params=params,
            notify=notify,
            on_played=record,
        )
