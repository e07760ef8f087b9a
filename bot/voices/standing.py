"""Whether work asked for earlier with a voice may still go on.

A sentence waiting to be spoken or a cover waiting its turn was allowed when it was asked
for. What happens to the voice before the work is done decides whether it still goes on:
the moderators hide it in that server, its owner makes it private or deletes it, the bot
owner retires a preset (from the CLI, another process: hence the check when work starts,
not only when the bot itself changes the voice). The rules are :mod:`bot.access`'s; this
module says why in the requester's words.
"""

from __future__ import annotations

from bot.access import Actor, can_use
from bot.store import Store
from bot.store.models import Voice, VoiceStatus


async def why_not_now(
    store: Store, voice_id: str | None, user_id: int | None, guild_id: int | None, outcome: str
) -> str | None:
    """Why ``user_id`` may no longer use the voice in ``guild_id`` (a sentence ending in
    ``outcome``, e.g. "this cover was stopped"), or None while they may.

    Work without a member or a server (the bot owner's, from the CLI) is only stopped when
    its voice is gone."""
    voice = await store.voices.get(voice_id) if voice_id is not None else None
    return await why_not_with(store, voice, user_id, guild_id, outcome)


async def why_not_with(
    store: Store, voice: Voice | None, user_id: int | None, guild_id: int | None, outcome: str
) -> str | None:
    """:func:`why_not_now` for a voice already read (None: it is gone)."""
    if voice is None:
        return f"Its voice was deleted, so {outcome}."
    if user_id is None or guild_id is None:
        if voice.status is VoiceStatus.READY:
            return None
        return f"The voice **{voice.name}** is no longer available, so {outcome}."
    hidden = await store.hides.is_hidden(voice.id, guild_id)
    if can_use(voice, Actor(user_id, guild_id), hidden=hidden):
        return None
    if hidden:
        return f"The moderators hid the voice **{voice.name}** in this server, so {outcome}."
    if voice.status is not VoiceStatus.READY:
        return f"The voice **{voice.name}** is no longer available, so {outcome}."
    return f"The voice **{voice.name}** was made private by its owner, so {outcome}."
