"""``/moderate …`` through the real discord.py client and the fake Discord: managers hide,
unhide and delete voices, the owner is told by direct message, and no manager gains use of
a member's private voice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.access import Actor
from bot.client import ParrotBot
from bot.errors import UserFacingError
from bot.settings import Settings
from bot.store.audit import AuditAction, Who
from bot.store.models import Visibility
from bot.voice_lookup import default_voice
from tests.bot.conftest import add_voice, reply_text, sub
from tests.bot.conftest import run_command as run
from tests.conftest import started_bot
from tests.fakediscord import FakeDiscord, FakeGuild
from tests.fakediscord.payloads import member as member_payload

EPHEMERAL = 64


@pytest.fixture
def elsewhere(
    fake_discord: FakeDiscord, guild: FakeGuild, people: dict[str, dict[str, Any]]
) -> FakeGuild:
    """A second server the voices' owner is also in."""
    other = fake_discord.add_guild("Elsewhere")
    other.members[int(people["owner"]["id"])] = member_payload(people["owner"])
    return other


@pytest.fixture
async def parrot(
    fake_discord: FakeDiscord, guild: FakeGuild, elsewhere: FakeGuild, settings: Settings
) -> AsyncIterator[ParrotBot]:
    async with started_bot(settings) as started:
        yield started


async def test_a_hidden_voice_is_refused_in_that_server_only_until_unhidden(
    parrot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    elsewhere: FakeGuild,
    people: dict[str, dict[str, Any]],
) -> None:
    owner, admin, other = people["owner"], people["admin"], people["other"]
    olive = await add_voice(parrot, "Olive", owner, guild)
    owner_actor = Actor(int(owner["id"]), guild.id)

    log = await run(
        fake_discord, guild, admin, "moderate", sub("hide", voice=olive.id, reason="Not hers")
    )
    assert "Hid **Olive** in this server" in reply_text(log) and "I told its owner" in reply_text(
        log
    )
    assert log.followups[0]["flags"] & EPHEMERAL
    [notice] = fake_discord.direct_messages(owner)
    assert "**Olive** was hidden in the server **Test Server**" in notice and "Not hers" in notice

    # nobody may use it here, its owner included: not listed, not suggested, refused by name
    log = await run(fake_discord, guild, owner, "voice", sub("default", voice=olive.id))
    assert "hidden in this server by its moderators" in reply_text(log)
    log = await run(fake_discord, guild, owner, "voice", sub("list"))
    assert "Olive" not in reply_text(log)
    choices = await fake_discord.autocomplete(guild, owner, "voice", "info", "voice", "")
    assert "Olive" not in " ".join(c["name"] for c in choices)
    log = await run(fake_discord, guild, owner, "voice", sub("share", voice=olive.id, shared=True))
    assert "can't be shared here" in reply_text(log)
    # ... but the owner still sees why, and uses it in another server
    log = await run(fake_discord, guild, owner, "voice", sub("info", voice=olive.id))
    assert "Hidden in this server" in reply_text(log) and "Not hers" in reply_text(log)
    log = await run(fake_discord, elsewhere, owner, "voice", sub("default", voice=olive.id))
    assert "now **Olive**" in reply_text(log)

    # a default pointing at a hidden voice is not used here; a clear message says why
    await parrot.store.settings.set_member_voice(guild.id, owner_actor.user_id, olive.id)
    with pytest.raises(UserFacingError, match="Your default voice \\*\\*Olive\\*\\* is hidden"):
        await default_voice(parrot.store, owner_actor)
    narrator = await add_voice(parrot, "Narrator", None, guild, visibility=Visibility.GLOBAL)
    await parrot.store.settings.update_guild(guild.id, default_voice_id=narrator.id)
    resolved = await default_voice(parrot.store, owner_actor)
    assert resolved is not None and resolved.voice.id == narrator.id
    assert resolved.notice and "**Olive** is hidden in this server" in resolved.notice

    # presets can be hidden too (nobody to tell), and the server's default then isn't used
    log = await run(
        fake_discord, guild, admin, "moderate", sub("hide", voice="Narrator", reason="Too loud")
    )
    assert "Hid **Narrator**" in reply_text(log) and "told" not in reply_text(log)
    log = await run(fake_discord, guild, other, "voice", sub("default", voice="Narrator"))
    assert "hidden in this server" in reply_text(log)
    with pytest.raises(UserFacingError, match="server's default voice \\*\\*Narrator\\*\\*"):
        await default_voice(parrot.store, Actor(int(other["id"]), guild.id))
    log = await run(
        fake_discord, guild, admin, "moderate", sub("hide", voice="Narrator", reason="Again")
    )
    assert "already hidden" in reply_text(log)

    hidden = await fake_discord.autocomplete(guild, admin, "moderate", "unhide", "voice", "")
    assert {c["value"] for c in hidden} == {olive.id, narrator.id}
    assert "Olive (private, hidden here)" in [c["name"] for c in hidden]
    hideable = await fake_discord.autocomplete(guild, admin, "moderate", "hide", "voice", "")
    assert not {c["value"] for c in hideable} & {olive.id, narrator.id}

    log = await run(fake_discord, guild, admin, "moderate", sub("unhide", voice=olive.id))
    assert "**Olive** can be used in this server again" in reply_text(log)
    assert (
        "can be used in the server **Test Server** again" in fake_discord.direct_messages(owner)[-1]
    )
    log = await run(fake_discord, guild, owner, "voice", sub("default", voice=olive.id))
    assert "now **Olive**" in reply_text(log)
    log = await run(fake_discord, guild, admin, "moderate", sub("unhide", voice=olive.id))
    assert "**Olive** is not hidden in this server" in reply_text(log)

    entries = list(reversed(await parrot.store.audit.entries(guild_id=guild.id)))
    assert [(e.action, e.voice_name, e.detail) for e in entries] == [
        (AuditAction.HIDE, "Olive", {"reason": "Not hers"}),
        (AuditAction.HIDE, "Narrator", {"reason": "Too loud"}),
        (AuditAction.UNHIDE, "Olive", None),
    ]
    assert {e.who for e in entries} == {Who.member(int(admin["id"]))}
    assert entries[0].voice_owner_id == int(owner["id"])


async def test_a_moderator_deletes_a_members_voice_after_confirming_and_the_owner_is_told(
    parrot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    elsewhere: FakeGuild,
    people: dict[str, dict[str, Any]],
) -> None:
    owner, admin = people["owner"], people["admin"]
    olive = await add_voice(parrot, "Olive", owner, guild, visibility=Visibility.GUILD)
    folder = parrot.library.folder(olive.id)

    log = await run(
        fake_discord, guild, admin, "moderate", sub("delete", voice="Olive", reason="Harassment")
    )
    assert "Delete **Olive**" in reply_text(log) and "its owner is told why" in reply_text(log)
    confirm_id = log.callbacks[0]["data"]["components"][0]["components"][0]["custom_id"]
    stranger = await fake_discord.click(guild, owner, log.sent[0], confirm_id)
    await fake_discord.wait_for(lambda: stranger.answered)
    assert "Only the member who asked" in reply_text(stranger)  # not even the owner
    await fake_discord.click(guild, admin, log.sent[0], confirm_id)
    await fake_discord.wait_for(lambda: any("Deleted" in t for t in log.texts()))
    assert "Deleted **Olive**. I told its owner." in reply_text(log)
    assert await parrot.store.voices.get(olive.id) is None and not folder.exists()
    [notice] = fake_discord.direct_messages(owner)
    assert "**Olive** was deleted by the moderators of the server **Test Server**" in notice
    assert "Harassment" in notice
    [entry] = await parrot.store.audit.entries(voice_id=olive.id)
    assert entry.action is AuditAction.DELETE and entry.who == Who.member(int(admin["id"]))
    assert entry.detail == {"reason": "Harassment", "moderation": True}
    assert entry.voice_owner_id == int(owner["id"]) and entry.guild_id == guild.id

    # an owner who accepts no direct messages: the voice goes all the same, the moderator hears
    fake_discord.closed_dms.add(int(owner["id"]))
    second = await add_voice(parrot, "Second", owner, guild)
    log = await run(
        fake_discord, guild, admin, "moderate", sub("delete", voice=second.id, reason="Spam")
    )
    confirm_id = log.callbacks[0]["data"]["components"][0]["components"][0]["custom_id"]
    await fake_discord.click(guild, admin, log.sent[0], confirm_id)
    await fake_discord.wait_for(lambda: any("Deleted" in t for t in log.texts()))
    assert "could not tell them" in reply_text(log)
    assert await parrot.store.voices.get(second.id) is None
    assert len(fake_discord.direct_messages(owner)) == 1

    # a voice enrolled elsewhere is offered for hiding once it was spoken here, not before
    roamer = await add_voice(parrot, "Roamer", owner, elsewhere)
    hideable = await fake_discord.autocomplete(guild, admin, "moderate", "hide", "voice", "ro")
    assert hideable == []
    await parrot.store.generations.record(
        kind="speech", user_id=int(owner["id"]), guild_id=guild.id, voice_id=roamer.id
    )
    hideable = await fake_discord.autocomplete(guild, admin, "moderate", "hide", "voice", "ro")
    assert [c["name"] for c in hideable] == ["Roamer (private, from another server)"]
    log = await run(
        fake_discord, guild, admin, "moderate", sub("hide", voice="roamer", reason="Loud")
    )
    assert "Hid **Roamer**" in reply_text(log)
    assert await parrot.store.hides.is_hidden(roamer.id, guild.id)
    assert not await parrot.store.hides.is_hidden(roamer.id, elsewhere.id)

    # presets and voices enrolled in another server are not this server's to delete
    await add_voice(parrot, "Narrator", None, guild, visibility=Visibility.GLOBAL)
    foreign = await add_voice(parrot, "Foreign", owner, elsewhere)
    for reference in ("Narrator", foreign.id, "Roamer"):
        log = await run(
            fake_discord, guild, admin, "moderate", sub("delete", voice=reference, reason="x")
        )
        assert "that you can act on here" in reply_text(log)
    assert await parrot.store.voices.get(foreign.id) is not None


async def test_moderation_is_for_managers_and_grants_no_use_of_private_voices(
    parrot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
) -> None:
    owner, admin, other = people["owner"], people["admin"], people["other"]
    olive = await add_voice(parrot, "Olive", owner, guild)
    moderate = parrot.tree.get_command("moderate")
    assert moderate is not None and moderate.default_permissions is not None
    assert moderate.default_permissions.manage_guild  # Discord's hint; checked locally too

    for command in (
        sub("hide", voice=olive.id, reason="Mine now"),
        sub("unhide", voice=olive.id),
        sub("delete", voice=olive.id, reason="Mine now"),
    ):
        log = await run(fake_discord, guild, other, "moderate", command)
        assert "Manage Server" in reply_text(log)
        assert log.callbacks[0]["data"]["flags"] & EPHEMERAL
    assert await fake_discord.autocomplete(guild, other, "moderate", "hide", "voice", "") == []
    assert not await parrot.store.hides.is_hidden(olive.id, guild.id)

    # a manager can neither speak with a member's private voice nor share or change it
    for command in (
        sub("info", voice=olive.id),
        sub("default", voice=olive.id),
        sub("share", voice=olive.id, shared=True),
        sub("rename", voice=olive.id, new_name="Taken"),
    ):
        log = await run(fake_discord, guild, admin, "voice", command)
        assert "don't know a voice" in reply_text(log), command
    choices = await fake_discord.autocomplete(guild, admin, "voice", "info", "voice", "")
    assert olive.id not in {c["value"] for c in choices}
    await run(fake_discord, guild, admin, "settings", [])  # shows; changes nothing
    stored = await parrot.store.voices.get(olive.id)
    assert stored is not None and stored.visibility is Visibility.PRIVATE
    assert stored.name == "Olive"
    assert await parrot.store.audit.entries(guild_id=guild.id) == []
