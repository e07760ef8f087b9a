"""Shared fixtures: isolated settings, the fake Discord, the real bot logged in to it,
real speech clips and the random-weight Chatterbox checkpoint."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.client import ParrotBot
from bot.settings import Settings
from tests.checkpoints.chatterbox import chatterbox_checkpoint, shrunk_t3
from tests.engine.speech import convert, espeak
from tests.fakediscord import FakeDiscord, FakeGuild
from tests.memory import register as register_memory_plugins

TEST_TOKEN = "test-token.for-the-fake-discord"


# The longest modules (seconds in a two-worker run, 2026-12-02: 60, 51, 38, 36, 32, 28, 19).
# Two xdist workers take whole modules in collection order (scripts/test.sh), so these go
# first: collected last, one of them left the other worker idle for minutes at the end. A
# module renamed or gone from this list only costs that balance.
LONGEST_MODULES = (
    "tests/engine/test_vocoder_stream.py",
    "tests/engine/test_speech_batched.py",
    "tests/bot/test_cover_e2e.py",
    "tests/bot/test_speech_multilingual_e2e.py",
    "tests/engine/test_speech_turbo.py",
    "tests/engine/test_tts.py",
    "tests/bot/test_speech_batched_e2e.py",
)


def pytest_configure(config: pytest.Config) -> None:
    register_memory_plugins(config, dict(os.environ))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {module: index for index, module in enumerate(LONGEST_MODULES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


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


@pytest.fixture(scope="session")
def speech_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same ~6 s of real speech as wav, mp3 and Ogg/Opus (a Discord voice message)."""
    folder = tmp_path_factory.mktemp("speech")
    wav = espeak(folder / "speech.wav")
    return {
        "wav": wav,
        "mp3": convert(wav, folder / "speech.mp3", "-c:a", "libmp3lame", "-b:a", "96k"),
        "ogg": convert(wav, folder / "speech.ogg", "-c:a", "libopus", "-b:a", "32k"),
    }


@pytest.fixture(scope="session")
def short_speech_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """About 1.5 s of speech per clip, in three formats."""
    folder = tmp_path_factory.mktemp("short-speech")
    wav = espeak(folder / "short.wav", "Hello, this is my voice.")
    return {
        "wav": wav,
        "mp3": convert(wav, folder / "short.mp3", "-c:a", "libmp3lame", "-b:a", "96k"),
        "ogg": convert(wav, folder / "short.ogg", "-c:a", "libopus", "-b:a", "32k"),
    }


@pytest.fixture(scope="session")
def chatterbox_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A PARROT_MODELS_DIR whose ``chatterbox`` folder is the cached random checkpoint.

    T3 stays shrunk for the whole session: the checkpoint only loads into the small T3.
    """
    with shrunk_t3():
        checkpoint = chatterbox_checkpoint()
        models = tmp_path_factory.mktemp("models")
        (models / "chatterbox").symlink_to(checkpoint, target_is_directory=True)
        yield models


@pytest.fixture(scope="session")
def cover_models_dir(chatterbox_models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The random Chatterbox plus a tiny random Demucs, ContentVec and RMVPE: everything a
    cover needs (RVC voices themselves come per test from tests.checkpoints.rvc)."""
    from tests.checkpoints.demucs import demucs_repo
    from tests.checkpoints.rvc import content_encoder, rmvpe_weights

    models = tmp_path_factory.mktemp("cover-models")
    links = {
        "chatterbox": (chatterbox_models_dir / "chatterbox").resolve(),
        "demucs": demucs_repo(),
        "contentvec": content_encoder(),
        "rmvpe": rmvpe_weights().parent,
    }
    for name, target in links.items():
        (models / name).symlink_to(target, target_is_directory=True)
    return models
