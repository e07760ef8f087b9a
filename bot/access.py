"""Who may do what with a voice. Pure rules, so the whole matrix is easy to test.

- Private voices: the owner uses and manages them; so does a member with Manage Server
  in the server the voice was enrolled in.
- Server-shared voices: everyone in that server may use them; only the owner or a
  server manager may change them.
- Presets (global): everyone may use them; only the bot owner changes them (CLI).
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


def _manages_home_of(voice: Voice, actor: Actor) -> bool:
    return actor.manages_guild and voice.guild_id == actor.guild_id


def can_see(voice: Voice, actor: Actor) -> bool:
    """Whether the voice may be named, shown or used by the actor at all."""
    if voice.status is VoiceStatus.RETIRED:
        return False
    if voice.visibility is Visibility.GLOBAL or is_owner(voice, actor):
        return True
    if voice.visibility is Visibility.GUILD and voice.guild_id == actor.guild_id:
        return True
    return _manages_home_of(voice, actor)


def can_use(voice: Voice, actor: Actor) -> bool:
    """Whether the actor may speak with the voice (it must also be ready)."""
    return voice.status is VoiceStatus.READY and can_see(voice, actor)


def can_manage(voice: Voice, actor: Actor) -> bool:
    """Rename, delete, share, add samples, attach a singing model."""
    if voice.visibility is Visibility.GLOBAL or voice.owner_id is None:
        return False
    return is_owner(voice, actor) or _manages_home_of(voice, actor)
