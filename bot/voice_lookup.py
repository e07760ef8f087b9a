"""Finding the voice a member means: by autocomplete id or typed name, and their default.

Voices the server's moderators hid there are neither listed, suggested nor used there.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord
from discord import app_commands

from bot.access import Actor, can_change, can_see, can_use
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
    """How a voice the actor may use is listed (another member's is always shared)."""
    if voice.visibility is Visibility.GLOBAL:
        return f"{voice.name} (preset)"
    if voice.owner_id == actor.user_id:
        shared = voice.visibility is Visibility.GUILD
        return f"{voice.name} (yours, shared)" if shared else f"{voice.name} (yours)"
    return f"{voice.name} (server)"


def hidden_refusal(voice: Voice) -> UserFacingError:
    return UserFacingError(
        f"The voice **{voice.name}** is hidden in this server by its moderators; "
        "nobody can use it here."
    )


async def visible_voices(store: Store, actor: Actor) -> list[Voice]:
    """The voices the actor may use here (hidden ones left out by the query)."""
    voices = await store.voices.usable(guild_id=actor.guild_id, user_id=actor.user_id)
    return [voice for voice in voices if can_use(voice, actor, hidden=False)]


async def changeable_voices(store: Store, actor: Actor) -> list[Voice]:
    """The actor's own voices, less those hidden here (still changeable when named)."""
    hidden = await store.hides.hidden_ids(actor.guild_id)
    return [
        voice
        for voice in await store.voices.list(owner_id=actor.user_id)
        if can_change(voice, actor) and voice.id not in hidden
    ]


def choices_for(
    voices: list[Voice], current: str, name: dict[str, str] | None = None
) -> list[app_commands.Choice[str]]:
    """Autocomplete: the voices whose name contains what was typed, ``name`` labelling them."""
    typed = current.strip().lower()
    matches = [v for v in voices if typed in v.name.lower()]
    return [
        app_commands.Choice(name=(name or {}).get(v.id, v.name)[:100], value=v.id)
        for v in matches[:MAX_CHOICES]
    ]


async def voice_choices(
    store: Store, actor: Actor, current: str, *, changeable: bool = False
) -> list[app_commands.Choice[str]]:
    """Autocomplete: usable voices (the member's own first), or the member's changeable ones."""
    if changeable:
        voices = await changeable_voices(store, actor)
    else:
        voices = await visible_voices(store, actor)
    return choices_for(voices, current, {v.id: label(v, actor) for v in voices})


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
    hidden = await store.hides.is_hidden(voice.id, actor.guild_id)
    if not can_use(voice, actor, hidden=hidden):
        if hidden:
            raise hidden_refusal(voice)
        if voice.status is not VoiceStatus.READY:
            raise UserFacingError(f"The voice **{voice.name}** is not ready ({voice.status}).")
        raise UserFacingError(f"The voice **{voice.name}** is private.")
    return voice


async def changeable_voice(store: Store, reference: str, actor: Actor) -> Voice:
    """A voice the actor may change: one of their own (hidden here or not)."""
    voice = await find_voice(store, reference, actor)
    if not can_change(voice, actor):
        moderate = (
            " As a server manager you can hide or delete it with `/moderate`."
            if actor.manages_guild and voice.guild_id == actor.guild_id
            else ""
        )
        raise UserFacingError(f"Only the owner of **{voice.name}** can change it.{moderate}")
    return voice


async def default_voice(store: Store, actor: Actor) -> Resolved | None:
    """The member's default here, else the server's; a default that went away is noted.

    A default the moderators hid here is never used; with nothing to fall back on, the
    member is told which default is hidden."""
    notice = None
    hidden_default: str | None = None
    member_choice = await store.settings.member_voice(actor.guild_id, actor.user_id)
    if member_choice is not None:
        voice = await store.voices.get(member_choice)
        hidden = voice is not None and await store.hides.is_hidden(voice.id, actor.guild_id)
        if voice is not None and can_use(voice, actor, hidden=hidden):
            return Resolved(voice)
        if voice is not None and hidden:
            hidden_default = f"Your default voice **{voice.name}**"
            notice = (
                f"{hidden_default} is hidden in this server by its moderators, "
                "so I used the server's default."
            )
        elif voice is not None and voice.status is VoiceStatus.RETIRED:  # a removed preset
            notice = (
                f"Your default voice **{voice.name}** was retired by the bot owner, "
                "so I used the server's default."
            )
        else:
            notice = "Your default voice is no longer available, so I used the server's default."
    guild = await store.settings.guild(actor.guild_id)
    if guild.default_voice_id is not None:
        voice = await store.voices.get(guild.default_voice_id)
        if voice is not None:
            hidden = await store.hides.is_hidden(voice.id, actor.guild_id)
            if can_use(voice, actor, hidden=hidden):
                return Resolved(voice, notice)
            if hidden and hidden_default is None:
                hidden_default = f"This server's default voice **{voice.name}**"
    if hidden_default is not None:
        raise UserFacingError(
            f"{hidden_default} is hidden in this server by its moderators. Name a voice "
            "with the `voice` option, or choose yours with `/voice default`."
        )
    return None
