"""The voice access rules over the whole matrix of actors and visibilities."""

from __future__ import annotations

import dataclasses

import pytest

from bot.access import Actor, can_manage, can_see, can_use
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


ACTORS = {
    "owner": Actor(OWNER, HOME),
    "owner elsewhere": Actor(OWNER, ELSEWHERE),
    "member": Actor(MEMBER, HOME),
    "manager": Actor(MEMBER, HOME, manages_guild=True),
    "manager elsewhere": Actor(MEMBER, ELSEWHERE, manages_guild=True),
    "member elsewhere": Actor(MEMBER, ELSEWHERE),
}
# actor -> (use private, manage private, use shared, manage shared, use preset, manage preset)
EXPECTED = {
    "owner": (True, True, True, True, True, False),
    "owner elsewhere": (True, True, True, True, True, False),
    "member": (False, False, True, False, True, False),
    "manager": (True, True, True, True, True, False),
    "manager elsewhere": (False, False, False, False, True, False),
    "member elsewhere": (False, False, False, False, True, False),
}


@pytest.mark.parametrize("actor_name", list(ACTORS))
def test_matrix(actor_name: str) -> None:
    actor = ACTORS[actor_name]
    private, shared = _voice(Visibility.PRIVATE), _voice(Visibility.GUILD)
    preset = _voice(Visibility.GLOBAL, owner=None, guild=None)
    got = (
        can_use(private, actor),
        can_manage(private, actor),
        can_use(shared, actor),
        can_manage(shared, actor),
        can_use(preset, actor),
        can_manage(preset, actor),
    )
    assert got == EXPECTED[actor_name]


def test_voices_that_are_not_ready_cannot_speak_and_retired_ones_vanish() -> None:
    owner = ACTORS["owner"]
    pending = dataclasses.replace(_voice(Visibility.PRIVATE), status=VoiceStatus.PENDING)
    assert can_see(pending, owner) and not can_use(pending, owner)
    retired = dataclasses.replace(_voice(Visibility.GLOBAL), status=VoiceStatus.RETIRED)
    assert not can_see(retired, owner) and not can_use(retired, owner)
