"""Cover jobs for tests of the runner around them: a stand-in for ``Engine.cover`` that never
finishes (a test double: what is under test is the runner and what Discord receives, not the
singing, which test_cover_e2e covers), and jobs submitted as ``/cover`` would."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

from bot.client import ParrotBot
from bot.exts.covers.reporter import DiscordCoverReporter
from bot.exts.covers.request import KIND
from bot.exts.covers.runner import CoverRunner
from bot.store.jobs import Job
from bot.store.models import Voice
from engine.api import SingingMethod
from tests.fakediscord import FakeGuild


class EndlessCover:
    """Stands in for ``Engine.cover``: records the voice folder it reads, never finishes."""

    def __init__(self) -> None:
        self.started: list[Path] = []

    async def __call__(self, song: Path, profile: Any, **options: Any) -> Any:
        self.started.append(profile.folder)
        await asyncio.Event().wait()

    async def check_available(self, method: SingingMethod, **options: Any) -> SingingMethod:
        """Stands in for ``Engine.check_cover_available``: sung by a model, so no voice
        conditionals are needed either."""
        return SingingMethod.RVC


async def submit(parrot: ParrotBot, guild: FakeGuild, member: dict[str, Any], voice: Voice) -> Job:
    song = parrot.cover_runner.jobs_dir / f"{secrets.token_hex(4)}.mp3"
    song.parent.mkdir(parents=True, exist_ok=True)
    song.write_bytes(b"a song")
    job = await parrot.store.jobs.create(
        kind=KIND,
        user_id=int(member["id"]),
        guild_id=guild.id,
        channel_id=int(guild.text_channel["id"]),
        voice_id=voice.id,
        params={"song_name": "Song.mp3", "voice_name": voice.name},
        input_path=parrot.library.relative(song),
    )
    parrot.cover_runner.submit(job, DiscordCoverReporter(parrot, job))
    return job


async def until_running(runner: CoverRunner, job: Job) -> None:
    async with asyncio.timeout(15):
        while runner.queue.position(job.id) != 0:
            await asyncio.sleep(0.01)


async def until_sung_from(cover: EndlessCover, folder: Path) -> None:
    """Until the latest cover started reads this voice folder (its turn came and its checks
    passed: a moment after its queue position became 0)."""
    async with asyncio.timeout(15):
        while not cover.started or cover.started[-1] != folder:
            await asyncio.sleep(0.01)
