"""Shared fixtures: isolated settings, the fake Discord, and the real bot logged in to it."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.client import ParrotBot
from bot.settings import Settings
from tests.fakediscord import FakeDiscord, FakeGuild

TEST_TOKEN = "test-token.for-the-fake-discord"


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's PARROT_* variables, .env or data directory."""
    for name in list(os.environ):
        if name.startswith("PARROT_") or name == "DISCORD_TOKEN":
            monkeypatch.delenv(name)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        discord_token=TEST_TOKEN,
        device="cpu",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    fake.install(monkeypatch)
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
def guild(fake_discord: FakeDiscord) -> FakeGuild:
    return fake_discord.add_guild()


@contextlib.asynccontextmanager
async def started_bot(settings: Settings) -> AsyncIterator[ParrotBot]:
    """Run the unmodified ``Bot.start()`` until ready; close it cleanly afterwards."""
    parrot = ParrotBot(settings, guild_ready_timeout=0.2)
    task = asyncio.create_task(parrot.start(TEST_TOKEN))
    ready = asyncio.create_task(parrot.wait_until_ready())
    done, _ = await asyncio.wait({task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if task in done:
            task.result()  # raises the start-up failure
        raise TimeoutError("the bot did not become ready")
    try:
        yield parrot
    finally:
        await parrot.close()
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def running_bot(
    fake_discord: FakeDiscord, guild: FakeGuild, settings: Settings
) -> AsyncIterator[ParrotBot]:
    async with started_bot(settings) as parrot:
        yield parrot
