"""The real discord.py client, logged in to the fake Discord, answering slash commands."""

from __future__ import annotations

import json

from bot.client import ParrotBot
from bot.settings import Settings
from tests.conftest import started_bot
from tests.fakediscord import FakeDiscord, FakeGuild

EPHEMERAL = 64


async def test_bot_logs_in_and_identifies(
    running_bot: ParrotBot, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    assert running_bot.user is not None
    assert running_bot.user.id == fake_discord.application_id
    assert running_bot.get_guild(guild.id) is not None
    intents = fake_discord.identify_payload["intents"]
    assert intents & (1 << 0)  # guilds
    assert intents & (1 << 7)  # voice states
    assert intents & (1 << 15)  # message content: /autoread reads a text channel aloud
    assert not intents & (1 << 1)  # no member list: Parrot never needs it


async def test_reading_messages_can_be_turned_off(
    fake_discord: FakeDiscord, guild: FakeGuild, settings: Settings
) -> None:
    quiet = settings.model_copy(update={"read_messages": False})
    async with started_bot(quiet):
        assert not fake_discord.identify_payload["intents"] & (1 << 15)


async def test_parrot_status_travels_through_discord_py(
    running_bot: ParrotBot, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    member = fake_discord.add_member(guild, "alice")
    log = await fake_discord.slash(
        guild, member, "parrot", [{"name": "status", "type": 1, "options": []}]
    )
    await fake_discord.wait_for(lambda: bool(log.followups))

    callback = log.callbacks[0]
    assert callback["type"] == 5  # deferred first: a cold engine may take longer than 3 s
    assert callback["data"]["flags"] & EPHEMERAL
    fields = {f["name"]: f["value"] for f in log.followups[0]["embeds"][0]["fields"]}
    assert fields["Version"] == "0.1.0"
    assert fields["Device"] == "cpu"
    assert fields["Voices"] == "0 ready / 0 total"
    assert fields["Engine"].startswith("idle")


async def test_unknown_failure_becomes_an_ephemeral_incident(
    running_bot: ParrotBot, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    async def broken_status() -> None:
        raise RuntimeError("boom")

    running_bot.engine.status = broken_status  # type: ignore[method-assign]
    member = fake_discord.add_member(guild, "bob")
    log = await fake_discord.slash(
        guild, member, "parrot", [{"name": "status", "type": 1, "options": []}]
    )
    await fake_discord.wait_for(lambda: bool(log.followups))
    data = log.followups[0]
    assert data["flags"] & EPHEMERAL
    assert "Something went wrong" in data["content"]
    assert "boom" not in json.dumps(data)  # internals stay in the log


async def test_close_releases_the_database(
    fake_discord: FakeDiscord, guild: FakeGuild, settings: Settings
) -> None:
    async with started_bot(settings) as parrot:
        store = parrot.store
    assert parrot._store is None
    # A closed aiosqlite connection refuses work: nothing keeps the process alive.
    try:
        await store.voices.count()
    except ValueError:
        pass
    else:
        raise AssertionError("the store connection is still open after close()")


async def test_models_unload_request_is_honoured_by_the_running_bot(
    running_bot: ParrotBot, settings: Settings
) -> None:
    import asyncio

    from bot.runtime import UNLOAD_REQUEST

    request = settings.data_dir / UNLOAD_REQUEST
    request.parent.mkdir(parents=True, exist_ok=True)
    request.write_text("unload\n")
    for _ in range(100):
        if not request.exists():
            break
        await asyncio.sleep(0.1)
    assert not request.exists()
