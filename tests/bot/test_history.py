"""``/history`` and ``/stats`` through the real discord.py client and the fake Discord."""

from __future__ import annotations

import json
from typing import Any

from bot.client import ParrotBot
from tests.bot.conftest import add_voice, reply_text
from tests.fakediscord import FakeDiscord, FakeGuild

EPHEMERAL = 64


async def _record(
    parrot: ParrotBot, user: dict[str, Any], guild: FakeGuild, voice_id: str, n: int
) -> None:
    for index in range(n):
        await parrot.store.generations.record(
            kind="cover" if index == 0 else "speech",
            user_id=int(user["id"]),
            guild_id=guild.id,
            voice_id=voice_id,
            characters=None if index == 0 else 10 + index,
            input_seconds=95.0 if index == 0 else None,
            audio_seconds=1.5,
            elapsed_seconds=0.5,
            method="rvc" if index == 0 else "chatterbox-original",
        )


def _embed(body: dict[str, Any]) -> dict[str, Any]:
    [embed] = body["embeds"]
    return embed


def _button(message: dict[str, Any], label: str) -> dict[str, Any]:
    buttons = [c for row in message["components"] for c in row["components"]]
    return next(button for button in buttons if button["label"] == label)


async def test_history_pages_through_a_members_own_generations(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
) -> None:
    owner, other = people["owner"], people["other"]
    voice = await add_voice(running_bot, "Olive", owner, guild)
    await _record(running_bot, owner, guild, voice.id, 13)
    await _record(running_bot, other, guild, voice.id, 2)

    log = await fake_discord.slash(guild, owner, "history")
    await fake_discord.wait_for(lambda: log.answered)
    reply = log.callbacks[0]["data"]
    assert reply["flags"] & EPHEMERAL
    first = _embed(reply)
    assert first["footer"]["text"] == "Page 1 of 2"
    assert first["description"].count("\n") == 9  # ten lines, newest first
    assert "**speech** · Olive · 22 characters" in first["description"].splitlines()[0]
    message = log.sent[0]
    assert _button(message, "Previous")["disabled"] is True

    stranger = await fake_discord.click(
        guild, other, message, _button(message, "Next")["custom_id"]
    )
    await fake_discord.wait_for(lambda: stranger.answered)
    assert "someone else's history" in reply_text(stranger)

    click = await fake_discord.click(guild, owner, message, _button(message, "Next")["custom_id"])
    await fake_discord.wait_for(lambda: click.answered)
    assert click.callbacks[0]["type"] == 7  # the same message, edited in place
    second = _embed(click.callbacks[0]["data"])
    assert second["footer"]["text"] == "Page 2 of 2"
    lines = second["description"].splitlines()
    assert len(lines) == 3
    assert "**cover** · Olive · 1 min 35 s song (rvc)" in lines[-1]
    assert _button(click.callbacks[0]["data"], "Next")["disabled"] is True

    alone = await fake_discord.slash(guild, people["admin"], "history")
    await fake_discord.wait_for(lambda: alone.answered)
    assert "not made anything" in reply_text(alone)


async def test_stats_is_for_server_managers(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
) -> None:
    owner, other = people["owner"], people["other"]
    olive = await add_voice(running_bot, "Olive", owner, guild)
    oscar = await add_voice(running_bot, "Oscar", other, guild)
    await _record(running_bot, owner, guild, olive.id, 3)
    await _record(running_bot, other, guild, oscar.id, 1)
    await running_bot.store.generations.record(
        kind="speech", user_id=int(owner["id"]), guild_id=guild.id + 1, voice_id=olive.id
    )  # another server: not counted here

    refused = await fake_discord.slash(guild, owner, "stats")
    await fake_discord.wait_for(lambda: refused.answered)
    assert "Manage Server" in reply_text(refused)

    log = await fake_discord.slash(guild, people["admin"], "stats")
    await fake_discord.wait_for(lambda: log.answered)
    reply = log.callbacks[0]["data"]
    assert reply["flags"] & EPHEMERAL
    embed = _embed(reply)
    assert "4 generation(s) — 2 spoken (23 characters), 2 cover(s)" in embed["description"]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["By voice"].splitlines()[0].startswith("**Olive**: 3 use(s)")
    assert f"<@{owner['id']}>: 3 use(s)" in fields["By member"]
    assert f"<@{other['id']}>: 1 use(s), 1 cover(s)" in fields["By member"]

    recent = await fake_discord.slash(
        guild, people["admin"], "stats", [{"name": "days", "type": 4, "value": 7}]
    )
    await fake_discord.wait_for(lambda: recent.answered)
    assert "In the last 7 day(s): 4 generation(s)" in json.dumps(recent.callbacks[0]["data"])
