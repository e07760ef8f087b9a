"""The voices a moderator may act on, by autocomplete id or typed name.

Moderators name voices members cannot see (another member's private voice enrolled here,
or one spoken here), so this lookup has its own candidates and rules."""

from __future__ import annotations

from collections.abc import Callable

import discord
from discord import app_commands

from bot.access import Actor, can_moderate_delete, can_moderate_hide
from bot.checks import manages_guild, parrot_of
from bot.errors import UserFacingError
from bot.store import Store
from bot.store.models import Visibility, Voice
from bot.voice_lookup import actor_of, choices_for

Rule = Callable[[Voice, Actor], bool]

_KINDS = {Visibility.PRIVATE: "private", Visibility.GUILD: "shared", Visibility.GLOBAL: "preset"}


def moderation_label(voice: Voice, actor: Actor, *, hidden: bool) -> str:
    """e.g. ``Olive (private, hidden here)``; voices from another server say so."""
    notes = [_KINDS[voice.visibility]]
    if voice.owner_id is not None and voice.guild_id != actor.guild_id:
        notes.append("from another server")
    if hidden:
        notes.append("hidden here")
    return f"{voice.name} ({', '.join(notes)})"


async def candidates(store: Store, actor: Actor, rule: Rule, *, hidden: bool | None) -> list[Voice]:
    """The server's moderatable voices that ``rule`` allows; ``hidden`` True: only those
    hidden here, False: only those not hidden here, None: both."""
    hidden_ids = await store.hides.hidden_ids(actor.guild_id)
    return [
        voice
        for voice in await store.voices.moderatable(actor.guild_id)
        if rule(voice, actor) and (hidden is None or (voice.id in hidden_ids) == hidden)
    ]


async def moderated_voice(store: Store, reference: str, actor: Actor, rule: Rule) -> Voice:
    """The voice a moderation command names that ``rule`` lets the actor act on."""
    reference = reference.strip()
    voice = await store.voices.get(reference)
    if voice is not None and rule(voice, actor):
        return voice
    found = [
        v
        for v in await candidates(store, actor, rule, hidden=None)
        if v.name.lower() == reference.lower()
    ]
    shown = discord.utils.escape_markdown(reference[:40])
    if not found:
        raise UserFacingError(f"I don't know a voice called `{shown}` that you can act on here.")
    if len(found) > 1:
        raise UserFacingError(f"Several voices are called `{shown}`: pick one from the list.")
    return found[0]


async def _choices(
    interaction: discord.Interaction, current: str, rule: Rule, hidden: bool | None
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None or not manages_guild(interaction.permissions):
        return []
    store = parrot_of(interaction).store
    actor = actor_of(interaction)
    voices = await candidates(store, actor, rule, hidden=hidden)
    hidden_ids = await store.hides.hidden_ids(actor.guild_id)
    labels = {v.id: moderation_label(v, actor, hidden=v.id in hidden_ids) for v in voices}
    return choices_for(voices, current, labels)


async def hideable_voices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return await _choices(interaction, current, can_moderate_hide, False)


async def hidden_voices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return await _choices(interaction, current, can_moderate_hide, True)


async def deletable_voices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return await _choices(interaction, current, can_moderate_delete, None)
