"""The voice access rules over the whole matrix: actors × visibilities × hidden here or not."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from bot.access import (
    Actor,
    can_change,
    can_moderate_delete,
    can_moderate_hide,
    can_see,
    can_share,
    can_unshare,
    can_use,
)
from bot.store.models import Visibility, Voice, VoiceSource, VoiceStatus

HOME, ELSEWHERE = 10, 20
OWNER, MEMBER = 1, 2


def _voice(visibility: Visibility, *, owner: int | None = OWNER, guild: int | None = HOME) -> Voice:
    return Voice(
        id="v",
        name="V",
        owner_id=owner,
        guild_id=guild,
        visibility=visibility,
        source=VoiceSource.UPLOAD if owner else VoiceSource.PRESET,
        status=VoiceStatus.READY,
        status_detail=None,
        tts_model=None,
        conditionals=None,
        rvc_model=None,
        rvc_index=None,
        consent_at=None,
        created_at="",
        updated_at="",
    )


VOICES = {
    "private": _voice(Visibility.PRIVATE),
    "shared": _voice(Visibility.GUILD),
    "preset": _voice(Visibility.GLOBAL, owner=None, guild=None),
}
ACTORS = {
    "owner": Actor(OWNER, HOME),
    "owner elsewhere": Actor(OWNER, ELSEWHERE),
    "owner managing": Actor(OWNER, HOME, manages_guild=True),
    "member": Actor(MEMBER, HOME),
    "member elsewhere": Actor(MEMBER, ELSEWHERE),
    "manager": Actor(MEMBER, HOME, manages_guild=True),
    "manager elsewhere": Actor(MEMBER, ELSEWHERE, manages_guild=True),
}
# "home" is the server the voice was enrolled in; "hidden" means hidden in the server the
# actor asks from. The manager never uses a member's private voice, hidden or not.
RULES: dict[str, Callable[[Voice, Actor, bool], bool]] = {
    "use": lambda voice, actor, hidden: can_use(voice, actor, hidden=hidden),
    "change": lambda voice, actor, hidden: can_change(voice, actor),
    "share": lambda voice, actor, hidden: can_share(voice, actor, hidden=hidden),
    "unshare": lambda voice, actor, hidden: can_unshare(voice, actor),
    "hide": lambda voice, actor, hidden: can_moderate_hide(voice, actor),
    "delete": lambda voice, actor, hidden: can_moderate_delete(voice, actor),
}
# (actor, voice) -> (allowed when not hidden, allowed when hidden in the actor's server)
EXPECTED: dict[tuple[str, str], tuple[str, str]] = {
    ("owner", "private"): ("use change share unshare", "change unshare"),
    ("owner", "shared"): ("use change share unshare", "change unshare"),
    ("owner", "preset"): ("use", ""),
    ("owner elsewhere", "private"): ("use change", "change"),
    ("owner elsewhere", "shared"): ("use change", "change"),
    ("owner elsewhere", "preset"): ("use", ""),
    ("owner managing", "private"): (
        "use change share unshare hide delete",
        "change unshare hide delete",
    ),
    ("owner managing", "shared"): (
        "use change share unshare hide delete",
        "change unshare hide delete",
    ),
    ("owner managing", "preset"): ("use hide", "hide"),
    ("member", "private"): ("", ""),
    ("member", "shared"): ("use", ""),
    ("member", "preset"): ("use", ""),
    ("member elsewhere", "private"): ("", ""),
    ("member elsewhere", "shared"): ("", ""),
    ("member elsewhere", "preset"): ("use", ""),
    ("manager", "private"): ("hide delete", "hide delete"),
    ("manager", "shared"): ("use hide delete", "hide delete"),
    ("manager", "preset"): ("use hide", "hide"),
    ("manager elsewhere", "private"): ("hide", "hide"),
    ("manager elsewhere", "shared"): ("hide", "hide"),
    ("manager elsewhere", "preset"): ("use hide", "hide"),
}


def test_the_matrix_covers_every_actor_and_voice() -> None:
    assert set(EXPECTED) == {(actor, voice) for actor in ACTORS for voice in VOICES}


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
@pytest.mark.parametrize(("actor_name", "voice_name"), list(EXPECTED))
def test_matrix(actor_name: str, voice_name: str, hidden: bool) -> None:
    actor, voice = ACTORS[actor_name], VOICES[voice_name]
    allowed = {name for name, rule in RULES.items() if rule(voice, actor, hidden)}
    assert allowed == set(EXPECTED[(actor_name, voice_name)][hidden].split())


def test_a_manager_cannot_even_name_a_members_private_voice() -> None:
    assert not can_see(VOICES["private"], ACTORS["manager"])
    assert can_see(VOICES["shared"], ACTORS["manager"])


def test_voices_that_are_not_ready_cannot_speak_and_retired_ones_vanish() -> None:
    owner = ACTORS["owner"]
    pending = dataclasses.replace(VOICES["private"], status=VoiceStatus.PENDING)
    assert can_see(pending, owner) and not can_use(pending, owner, hidden=False)
    assert can_change(pending, owner) and can_moderate_delete(pending, ACTORS["manager"])
    retired = dataclasses.replace(VOICES["preset"], status=VoiceStatus.RETIRED)
    assert not can_see(retired, owner) and not can_use(retired, owner, hidden=False)
    assert not can_moderate_hide(retired, ACTORS["manager"])
