"""Finding the voice a member means: by autocomplete id or typed name, and their default."""

from __future__ import annotations

from dataclasses import dataclass

import discord
from discord import app_commands

from bot.access import Actor, can_manage, can_see, can_use
from bot.errors import UserFacingError
from bot.store import Store
from bot.store.models import Visibility, Voice, VoiceStatus

MAX_CHOICES = 25  # Discord's limit for autocomplete
VOICE_HELP = "A voice: start typing its name"
"""How a command's ``voice`` parameter describes itself (the autocomplete lists them)."""


def actor_of(interaction: discord.Interaction) -> Actor:
    if interaction.guild_id is None:
        raise UserFacingError("This command only works in a server.")
    permissions = interaction.permissions
    return Actor(
        interaction.user.id,
        interaction.guild_id,
        manages_guild=permissions.manage_guild or permissions.administrator,
    )


def actor_of_member(member: discord.Member) -> Actor:
    permissions = member.guild_permissions
    manages = permissions.manage_guild or permissions.administrator
    return Actor(member.id, member.guild.id, manages_guild=manages)


def label(voice: Voice, actor: Actor) -> str:
    if voice.visibility is Visibility.GLOBAL:
        return f"{voice.name} (preset)"
    if voice.owner_id == actor.user_id:
        return (
            f"{voice.name} (yours)"
            if voice.visibility is Visibility.PRIVATE
            else (f"{voice.name} (yours, shared)")
        )
    return (
        f"{voice.name} (server)"
        if voice.visibility is Visibility.GUILD
        else (f"{voice.name} (private, <@{voice.owner_id}>)")
    )


async def visible_voices(store: Store, actor: Actor) -> list[Voice]:
    voices = await store.voices.usable(
        guild_id=actor.guild_id, user_id=actor.user_id, include_guild_private=actor.manages_guild
    )
    return [voice for voice in voices if can_see(voice, actor)]


async def voice_choices(
    store: Store, actor: Actor, current: str, *, manageable: bool = False
) -> list[app_commands.Choice[str]]:
    """Autocomplete: voices whose name contains what was typed, the member's own first."""
    typed = current.strip().lower()
    if manageable:
        voices = await store.voices.list(owner_id=actor.user_id)
        if actor.manages_guild:
            known = {v.id for v in voices}
            voices += [
                v for v in await store.voices.list(guild_id=actor.guild_id) if v.id not in known
            ]
        voices = [v for v in voices if can_manage(v, actor) and v.status is not VoiceStatus.RETIRED]
    else:
        voices = await visible_voices(store, actor)
    matches = [v for v in voices if typed in v.name.lower()]
    return [
        app_commands.Choice(name=label(v, actor)[:100], value=v.id) for v in matches[:MAX_CHOICES]
    ]


@dataclass(frozen=True, slots=True)
class Resolved:
    voice: Voice
    notice: str | None = None


async def find_voice(store: Store, reference: str, actor: Actor) -> Voice:
    """The voice an option names (an id from autocomplete, or a typed name) that the actor
    may see; the member's own voice wins a name clash, then the server's, then presets."""
    reference = reference.strip()
    voice = await store.voices.get(reference)
    if voice is not None and can_see(voice, actor):
        return voice
    candidates = [
        v
        for v in await store.voices.find(reference)
        if v.name.lower() == reference.lower() and can_see(v, actor)
    ]
    if not candidates:
        shown = discord.utils.escape_markdown(reference[:40])
        raise UserFacingError(
            f"I don't know a voice called `{shown}` that you can use here; "
            "`/voice list` shows yours."
        )

    def rank(v: Voice) -> int:
        if v.owner_id == actor.user_id:
            return 0
        return 1 if v.visibility is Visibility.GUILD else 2

    return min(candidates, key=rank)


async def usable_voice(store: Store, reference: str, actor: Actor) -> Voice:
    voice = await find_voice(store, reference, actor)
    if not can_use(voice, actor):
        if voice.status is not VoiceStatus.READY:
            raise UserFacingError(f"The voice **{voice.name}** is not ready ({voice.status}).")
        raise UserFacingError(f"The voice **{voice.name}** is private.")
    return voice


async def manageable_voice(store: Store, reference: str, actor: Actor) -> Voice:
    voice = await find_voice(store, reference, actor)
    if not can_manage(voice, actor):
        raise UserFacingError(
            f"Only the owner of **{voice.name}** or a server manager can change it."
        )
    return voice


async def default_voice(store: Store, actor: Actor) -> Resolved | None:
    """The member's default here, else the server's; a default that went away is noted."""
    notice = None
    member_choice = await store.settings.member_voice(actor.guild_id, actor.user_id)
    if member_choice is not None:
        voice = await store.voices.get(member_choice)
        if voice is not None and can_use(voice, actor):
            return Resolved(voice)
        if voice is not None and voice.status is VoiceStatus.RETIRED:  # a removed preset
            notice = (
                f"Your default voice **{voice.name}** was retired by the bot owner, "
                "so I used the server's default."
            )
        else:
            notice = "Your default voice is no longer available, so I used the server's default."
    guild = await store.settings.guild(actor.guild_id)
    if guild.default_voice_id is not None:
        voice = await store.voices.get(guild.default_voice_id)
        if voice is not None and can_use(voice, actor):
            return Resolved(voice, notice)
    return None
