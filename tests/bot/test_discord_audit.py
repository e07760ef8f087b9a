"""The audit trail of Discord actions not covered with their commands' own tests: server
settings and singing models (/voice rename, share, delete, add-sample: test_voice_commands;
/moderate: test_moderation)."""

from __future__ import annotations

from typing import Any

from bot.client import ParrotBot
from bot.store.audit import AuditAction, Who
from bot.store.models import Visibility
from tests.bot.conftest import add_voice, reply_text, sub
from tests.checkpoints.rvc import small_rvc_voice
from tests.fakediscord import FakeDiscord, FakeGuild


def _options(**values: Any) -> list[dict[str, Any]]:
    types = {bool: 5, int: 4, str: 3}
    return [{"name": k, "type": types[type(v)], "value": v} for k, v in values.items()]


async def test_each_server_setting_changed_is_one_entry_with_its_new_value(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
) -> None:
    admin = people["admin"]
    shared = await add_voice(
        running_bot, "Ours", people["owner"], guild, visibility=Visibility.GUILD
    )
    options = _options(max_length=120, announce_names=True, default_voice=shared.id)
    log = await fake_discord.slash(guild, admin, "settings", options)
    await fake_discord.wait_for(lambda: log.answered)
    assert "120 characters" in reply_text(log)
    log = await fake_discord.slash(guild, admin, "settings", _options(clear_required_role=True))
    await fake_discord.wait_for(lambda: log.answered)
    refused = await fake_discord.slash(guild, people["other"], "settings", _options(max_length=50))
    await fake_discord.wait_for(lambda: refused.answered)

    entries = list(reversed(await running_bot.store.audit.entries(guild_id=guild.id)))
    assert all(e.action is AuditAction.SETTINGS for e in entries)
    assert {e.who for e in entries} == {Who.member(int(admin["id"]))}
    assert sorted((e.detail or {})["setting"] for e in entries[:3]) == [
        "announce_names",
        "default_voice",
        "max_length",
    ]
    values = {(e.detail or {})["setting"]: (e.detail or {})["value"] for e in entries}
    assert values == {
        "max_length": 120,
        "announce_names": True,
        "default_voice": shared.id,
        "required_role": None,
    }
    [voice_entry] = [e for e in entries if e.voice_id is not None]
    assert voice_entry.voice_name == "Ours" and voice_entry.voice_owner_id == int(
        people["owner"]["id"]
    )


async def test_attaching_and_removing_a_singing_model_is_recorded(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
) -> None:
    owner, admin = people["owner"], people["admin"]
    voice = await add_voice(running_bot, "Olive", owner, guild, visibility=Visibility.GUILD)
    model = small_rvc_voice("v2", 40_000)
    payload = fake_discord.add_attachment("olive.pth", model.read_bytes(), None)
    options = [
        {"name": "voice", "type": 3, "value": voice.id},
        {"name": "model", "type": 11, "value": payload["id"]},
    ]
    resolved = {"attachments": {payload["id"]: payload}}

    # a server manager may not give a member's voice a singing model
    log = await fake_discord.slash(
        guild,
        admin,
        "voice",
        [{"name": "singing-model", "type": 1, "options": options}],
        resolved=resolved,
    )
    await fake_discord.wait_for(lambda: log.answered)
    assert "Only the owner of **Olive** can change it" in reply_text(log)
    assert "`/moderate`" in reply_text(log)

    log = await fake_discord.slash(
        guild,
        owner,
        "voice",
        [{"name": "singing-model", "type": 1, "options": options}],
        resolved=resolved,
    )
    await fake_discord.wait_for(lambda: bool(log.followups), timeout=60)
    assert "now sings covers with its RVC model (RVC v2, 40 kHz" in reply_text(log)
    log = await fake_discord.slash(
        guild, owner, "voice", sub("forget-singing-model", voice="Olive")
    )
    await fake_discord.wait_for(lambda: log.answered)
    assert "sings zero-shot again" in reply_text(log)

    entries = list(reversed(await running_bot.store.audit.entries(voice_id=voice.id)))
    assert [e.action for e in entries] == [
        AuditAction.ATTACH_SINGING_MODEL,
        AuditAction.REMOVE_SINGING_MODEL,
    ]
    assert {e.who for e in entries} == {Who.member(int(owner["id"]))}
    assert {e.guild_id for e in entries} == {guild.id}
    assert entries[0].detail is not None and entries[0].detail["index"] is False
    assert "RVC v2" in entries[0].detail["model"]


async def test_a_refused_singing_model_leaves_no_entry_and_no_file(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
) -> None:
    voice = await add_voice(running_bot, "Olive", people["owner"], guild)
    payload = fake_discord.add_attachment("broken.pth", b"PK\x03\x04 not a model", None)
    log = await fake_discord.slash(
        guild,
        people["owner"],
        "voice",
        [
            {
                "name": "singing-model",
                "type": 1,
                "options": [
                    {"name": "voice", "type": 3, "value": voice.id},
                    {"name": "model", "type": 11, "value": payload["id"]},
                ],
            }
        ],
        resolved={"attachments": {payload["id"]: payload}},
    )
    await fake_discord.wait_for(lambda: bool(log.followups), timeout=60)
    assert "That singing model can't be used" in reply_text(log)
    assert await running_bot.store.audit.entries(voice_id=voice.id) == []
    assert not list(running_bot.library.folder(voice.id).glob("singing/*"))
