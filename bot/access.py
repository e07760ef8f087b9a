"""Who may do what with a voice. Pure rules, so the whole matrix is easy to test.

``hidden`` always means: the voice is hidden in the server the actor is asking from.

- Private voices speak only for their owner: only the owner uses, changes (rename, add
  samples, attach or remove a singing model, delete) and shares them, in any server.
- Server-shared voices: everyone in their server may use them (their owner anywhere);
  only the owner changes or unshares them. A server manager does not change a member's
  voice, shared or not: rewording, re-sampling or re-sharing it is the owner's call.
- Presets (global): everyone may use them; only the bot owner changes them (CLI).
- Managers (Manage Server) *moderate* in their server: they hide any voice there (presets
  too) and unhide it; a hidden voice is usable by nobody there, its owner included. They
  delete a member's voice enrolled in their server. They never gain use of a private voice.
- The owner keeps changing (and deleting) their voice where it is hidden, but cannot share
  it there: the moderators' decision holds until they lift it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.models import Visibility, Voice, VoiceStatus


@dataclass(frozen=True, slots=True)
class Actor:
    """The member asking, in the server they are asking from."""

    user_id: int
    guild_id: int
    manages_guild: bool = False


def is_owner(voice: Voice, actor: Actor) -> bool:
    return voice.owner_id is not None and voice.owner_id == actor.user_id


def can_see(voice: Voice, actor: Actor) -> bool:
    """Whether the actor may name the voice at all (before any hide): a preset, their own
    voice, or a voice shared with the server they ask from."""
    if voice.status is VoiceStatus.RETIRED:
        return False
    if voice.visibility is Visibility.GLOBAL or is_owner(voice, actor):
        return True
    return voice.visibility is Visibility.GUILD and voice.guild_id == actor.guild_id


def can_use(voice: Voice, actor: Actor, *, hidden: bool) -> bool:
    """Whether the actor may speak (or sing) with the voice here; it must be ready."""
    return voice.status is VoiceStatus.READY and can_see(voice, actor) and not hidden


def can_change(voice: Voice, actor: Actor) -> bool:
    """Rename, add samples, attach or remove a singing model, delete: the owner only."""
    if voice.visibility is Visibility.GLOBAL or voice.status is VoiceStatus.RETIRED:
        return False
    return is_owner(voice, actor)


def can_share(voice: Voice, actor: Actor, *, hidden: bool) -> bool:
    """Share the voice with the server it was enrolled in: its owner, from there, unless
    the moderators hid it there."""
    return can_change(voice, actor) and voice.guild_id == actor.guild_id and not hidden


def can_unshare(voice: Voice, actor: Actor) -> bool:
    """Make a shared voice private again: its owner, from the server it was enrolled in."""
    return can_change(voice, actor) and voice.guild_id == actor.guild_id


def can_moderate_hide(voice: Voice, actor: Actor) -> bool:
    """Hide the voice in the actor's server, or unhide it: a manager there. Any voice can be
    spoken in any server (presets by all, a member's voice by its owner), so any may be
    hidden; hiding grants nothing."""
    return actor.manages_guild and voice.status is not VoiceStatus.RETIRED


def can_moderate_delete(voice: Voice, actor: Actor) -> bool:
    """Delete a member's voice enrolled in the actor's server: a manager there. Presets are
    the bot owner's and are only hidden."""
    return (
        actor.manages_guild
        and voice.owner_id is not None
        and voice.visibility is not Visibility.GLOBAL
        and voice.status is not VoiceStatus.RETIRED
        and voice.guild_id == actor.guild_id
    )
