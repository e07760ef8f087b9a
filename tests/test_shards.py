"""``PARROT_SHARDS``: the real bot as ``AutoShardedBot`` on the fake Discord, which splits
servers between gateway connections as Discord does. Each shard carries its own servers,
their events reach only it, and per-server state (the voice players) stays per server."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord.ext import commands

from bot.client import ParrotBot, create_bot
from bot.settings import Settings
from tests.bot.speech_support import in_voice
from tests.conftest import TEST_TOKEN
from tests.fakediscord import FakeDiscord, FakeGuild
from tests.fakediscord.shards import shard_of


@contextlib.asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[ParrotBot]:
    parrot = create_bot(settings, guild_ready_timeout=0.2)
    task = asyncio.create_task(parrot.start(TEST_TOKEN))
    try:
        await asyncio.wait_for(parrot.wait_until_ready(), 30)
        yield parrot
    finally:
        await parrot.close()
        await asyncio.wait_for(task, 10)


def guilds_on_both_shards(fake: FakeDiscord) -> list[FakeGuild]:
    """Servers until both of two shards carry one (a server's shard comes from its id)."""
    guilds: list[FakeGuild] = []
    while {shard_of(guild.id, 2) for guild in guilds} != {0, 1}:
        guilds.append(fake.add_guild(f"Server {len(guilds)}"))
        time.sleep(0.002)  # the next id carries a later millisecond
    return guilds


@pytest.fixture
def no_identify_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """discord.py waits 5 s between shards' identifies (Discord's rate limit); not here."""

    async def at_once(self: Any, shard_id: int | None, *, initial: bool = False) -> None:
        return None

    monkeypatch.setattr(discord.Client, "before_identify_hook", at_once)


async def test_two_shards_each_carry_their_servers(
    fake_discord: FakeDiscord, settings: Settings, no_identify_pause: None
) -> None:
    guilds = guilds_on_both_shards(fake_discord)
    async with started(settings.model_copy(update={"shards": "2"})) as parrot:
        assert isinstance(parrot, commands.AutoShardedBot)
        assert parrot.shard_count == 2
        assert sorted(fake_discord.shards.identified) == [(0, 2), (1, 2)]
        for guild in guilds:
            cached = parrot.get_guild(guild.id)
            assert cached is not None and cached.shard_id == shard_of(guild.id, 2)

        # /join in a server on each shard: the voice state request goes out on the server's
        # own shard, Discord's answer comes back on it, and each server gets its own player.
        for guild in guilds:
            member = fake_discord.add_member(guild, f"member{len(guild.members)}")
            await in_voice(parrot, fake_discord, guild, member)
            joined = await fake_discord.slash(guild, member, "join")
            await fake_discord.wait_for(lambda joined=joined: bool(joined.followups), 30)
            cached = parrot.get_guild(guild.id)
            assert cached is not None and cached.voice_client is not None
        assert len({id(parrot.get_guild(g.id).voice_client) for g in guilds}) == len(guilds)


async def test_auto_follows_discords_advice(
    fake_discord: FakeDiscord, settings: Settings, no_identify_pause: None
) -> None:
    fake_discord.shards.recommended = 2
    guilds_on_both_shards(fake_discord)
    async with started(settings.model_copy(update={"shards": "auto"})) as parrot:
        assert parrot.shard_count == 2
        assert len(parrot.guilds) == len(fake_discord.guilds)


async def test_no_shards_is_the_plain_bot(fake_discord: FakeDiscord, settings: Settings) -> None:
    parrot = create_bot(settings)
    assert not isinstance(parrot, commands.AutoShardedBot)
    await parrot.engine.shutdown()
