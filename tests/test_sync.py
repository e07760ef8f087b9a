"""``parrot sync``: registering the slash commands with (the fake) Discord."""

from __future__ import annotations

from bot.cli.app import sync_commands
from bot.settings import Settings
from bot.store import Store
from tests.conftest import TEST_TOKEN
from tests.fakediscord import FakeDiscord


def names(commands: list[dict[str, object]]) -> list[object]:
    return [command["name"] for command in commands]


async def test_global_sync(fake_discord: FakeDiscord, settings: Settings) -> None:
    synced = await sync_commands(settings, TEST_TOKEN, None)
    assert "parrot" in synced
    assert "parrot" in names(fake_discord.synced_commands[None])
    assert set(fake_discord.synced_commands) == {None}
    registered = {c["name"]: c for c in fake_discord.synced_commands[None]}
    assert "guild_id" not in registered["parrot"]
    assert any(o["name"] == "status" for o in registered["parrot"].get("options", []))


async def test_guild_sync(fake_discord: FakeDiscord, settings: Settings) -> None:
    guild = fake_discord.add_guild()
    synced = await sync_commands(settings, TEST_TOKEN, guild.id)
    assert "parrot" in synced
    assert "parrot" in names(fake_discord.synced_commands[guild.id])
    assert None not in fake_discord.synced_commands  # nothing global
    for command in fake_discord.synced_commands[guild.id]:
        assert command["guild_id"] == str(guild.id)


async def test_sync_twice_replaces_the_commands(
    fake_discord: FakeDiscord, settings: Settings
) -> None:
    first = await sync_commands(settings, TEST_TOKEN, None)
    second = await sync_commands(settings, TEST_TOKEN, None)
    assert first == second
    assert names(fake_discord.synced_commands[None]) == second


async def test_sync_closes_the_store(fake_discord: FakeDiscord, settings: Settings) -> None:
    """Syncing opens the bot's store in its setup hook; it must be closed again."""
    await sync_commands(settings, TEST_TOKEN, None)
    assert settings.database_path.exists()
    # A fresh open succeeds and nothing is left in a transaction.
    async with await Store.open(settings.database_path) as store:
        assert await store.db.integrity_check() == []
