"""Covers in tests: a voice enrolled for real and ``/cover`` with an attached song (the
end-to-end modules), and for tests of the runner around the singing, a stand-in for
``Engine.cover`` that never finishes (a test double: what is under test there is the runner
and what Discord receives, not the singing) with jobs submitted as ``/cover`` would."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

from bot.client import ParrotBot
from bot.exts.covers.reporter import DiscordCoverReporter
from bot.exts.covers.request import KIND
from bot.exts.covers.runner import CoverRunner
from bot.runtime import sample_limits
from bot.store.audit import Who
from bot.store.jobs import Job
from bot.store.models import Consent, ConsentPath, Visibility, Voice, VoiceSource
from bot.voices.enrolment import VoiceEnroller
from engine.api import SingingMethod
from tests.fakediscord import FakeDiscord, FakeGuild

COVER_WAIT_S = 240
"""The longest a cover on the random models may take here."""


async def enrol(parrot: ParrotBot, owner: dict[str, Any], guild: FakeGuild, clip: Path) -> Voice:
    enroller = VoiceEnroller(
        parrot.store, parrot.library, parrot.engine, sample_limits(parrot.settings)
    )
    voice, _ = await enroller.enroll(
        "Olive",
        [clip],
        owner_id=int(owner["id"]),
        guild_id=guild.id,
        visibility=Visibility.GUILD,
        source=VoiceSource.UPLOAD,
        consent=Consent.now(ConsentPath.DISCORD),
        who=Who.cli(),
    )
    return voice


def attach(
    fake: FakeDiscord, name: str, path: Path, data: bytes | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    payload = fake.add_attachment(path.name, data or path.read_bytes(), None)
    payload["filename"] = path.name
    return {"name": name, "type": 11, "value": payload["id"]}, payload


async def cover(
    fake: FakeDiscord,
    guild: FakeGuild,
    member: dict[str, Any],
    song: Path,
    voice: str,
    **options: Any,
) -> Any:
    option, payload = attach(fake, "song", song)
    extra = [
        {"name": key, "type": 4 if isinstance(value, int) else 3, "value": value}
        for key, value in options.items()
    ]
    return await fake.slash(
        guild,
        member,
        "cover",
        [option, {"name": "voice", "type": 3, "value": voice}, *extra],
        resolved={"attachments": {payload["id"]: payload}},
    )


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
