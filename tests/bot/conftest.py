"""Fixtures for the Discord features: a bot that can really enrol and speak, members, voices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.client import ParrotBot
from bot.settings import Settings
from bot.store.models import Visibility, Voice, VoiceSource, VoiceStatus
from tests.bot.cover_support import EndlessCover
from tests.conftest import TEST_TOKEN, started_bot
from tests.fakediscord import FakeDiscord, FakeGuild
from tests.fakediscord.payloads import MANAGE_GUILD


@pytest.fixture
def speech_settings(tmp_path: Path, chatterbox_models_dir: Path) -> Settings:
    """Settings whose engine runs the random-weight Chatterbox, capped to stay quick."""
    return Settings(
        data_dir=tmp_path / "data",
        discord_token=TEST_TOKEN,
        device="cpu",
        models_dir=chatterbox_models_dir,
        torch_threads=1,
        min_sample_seconds=1.0,
        speech_decoder_steps=2,
        speech_max_tokens=8,
        say_cooldown_seconds=0,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def speaking_bot(
    fake_discord: FakeDiscord, guild: FakeGuild, speech_settings: Settings
) -> AsyncIterator[ParrotBot]:
    async with started_bot(speech_settings) as parrot:
        yield parrot


@pytest.fixture
def people(fake_discord: FakeDiscord, guild: FakeGuild) -> dict[str, dict[str, Any]]:
    """An owner of voices, another member, and a member with Manage Server."""
    return {
        "owner": fake_discord.add_member(guild, "olive"),
        "other": fake_discord.add_member(guild, "oscar"),
        "admin": fake_discord.add_member(guild, "ada", permissions=MANAGE_GUILD),
    }


async def add_voice(
    parrot: ParrotBot,
    name: str,
    owner: dict[str, Any] | None,
    guild: FakeGuild,
    *,
    visibility: Visibility = Visibility.PRIVATE,
) -> Voice:
    """A ready voice row with a folder (no model work: for permission tests)."""
    voice = await parrot.store.voices.create(
        name=name,
        owner_id=int(owner["id"]) if owner else None,
        guild_id=guild.id if owner else None,
        visibility=visibility,
        source=VoiceSource.UPLOAD if owner else VoiceSource.PRESET,
        status=VoiceStatus.READY,
    )
    folder = parrot.library.folder(voice.id)
    folder.mkdir(parents=True)
    (folder / "marker.txt").write_text("voice files live here\n")
    return voice


async def run_command(
    fake: FakeDiscord, guild: FakeGuild, member: dict[str, Any], name: str, options: Any
) -> Any:
    """A slash command, waited for until its last reply (a deferred one's follow-up)."""
    log = await fake.slash(guild, member, name, options)
    await fake.wait_for(
        lambda: log.answered and (log.callbacks[0]["type"] != 5 or bool(log.followups))
    )
    return log


def sub(name: str, **options: Any) -> list[dict[str, Any]]:
    """The options list of a subcommand call, e.g. ``sub("rename", voice=..., new_name=...)``."""
    types = {bool: 5, int: 4, str: 3}
    return [
        {
            "name": name,
            "type": 1,
            "options": [
                {"name": key, "type": types.get(type(value), 3), "value": value}
                for key, value in options.items()
            ],
        }
    ]


def reply_text(log: Any) -> str:
    return "\n".join(log.texts())


@pytest.fixture
def endless_cover(running_bot: ParrotBot, monkeypatch: pytest.MonkeyPatch) -> EndlessCover:
    """``Engine.cover`` replaced by a stand-in that never finishes (see cover_support); the
    engine's check at the job's turn says the weights are there (none are, in this bot)."""
    cover = EndlessCover()
    monkeypatch.setattr(running_bot.engine, "cover", cover)
    monkeypatch.setattr(running_bot.engine, "check_cover_available", cover.check_available)
    return cover
