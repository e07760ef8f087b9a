"""Covers asked for with a voice stop when the voice may no longer be used for them: the
moderators hide it in that server, or its owner makes it private (other members' covers
only). Running or waiting, each requester is told why in their channel; covers in other
voices, or that may still go on, are untouched. A change the bot did not make itself (the
CLI, another process) is caught when the cover's turn comes."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.client import ParrotBot
from bot.store.jobs import Job
from bot.store.models import JobState, Visibility
from tests.bot.conftest import add_voice, reply_text, run_command, sub
from tests.bot.cover_support import EndlessCover, submit, until_running, until_sung_from
from tests.fakediscord import FakeDiscord, FakeGuild

HIDDEN = "The moderators hid the voice **{}** in this server, so this cover was stopped."
PRIVATE = "The voice **{}** was made private by its owner, so this cover was stopped."


async def ended_with(parrot: ParrotBot, job: Job, state: JobState, error: str | None) -> None:
    ended = await parrot.store.jobs.get(job.id)
    assert ended is not None and (ended.state, ended.error) == (state, error)
    assert not parrot.cover_runner.running(job.id)


def told(fake: FakeDiscord, guild: FakeGuild, job: Job, text: str) -> bool:
    posted = fake.channel_messages[int(guild.text_channel["id"])]
    return any(
        message["content"].startswith(f"<@{job.user_id}>") and text in message["content"]
        for message in posted
    )


async def test_hiding_a_voice_stops_its_covers_in_that_server(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    endless_cover: EndlessCover,
) -> None:
    owner, other, admin = people["owner"], people["other"], people["admin"]
    runner = running_bot.cover_runner
    olive = await add_voice(running_bot, "Olive", owner, guild, visibility=Visibility.GUILD)
    kept = await add_voice(running_bot, "Kept", owner, guild, visibility=Visibility.GUILD)
    running = await submit(running_bot, guild, other, olive)
    await until_running(runner, running)
    waiting = await submit(running_bot, guild, owner, olive)  # hidden: its owner too
    elsewhere = await submit(running_bot, guild, other, kept)

    log = await run_command(
        fake_discord, guild, admin, "moderate", sub("hide", voice=olive.id, reason="Spam")
    )
    assert "Hid **Olive**" in reply_text(log)
    for job in (running, waiting):
        await ended_with(running_bot, job, JobState.CANCELLED, HIDDEN.format("Olive"))
        assert told(fake_discord, guild, job, HIDDEN.format("Olive"))
    await until_running(runner, elsewhere)  # the other voice's cover takes the turn
    await until_sung_from(endless_cover, running_bot.library.folder(kept.id))
    await runner.cancel(elsewhere.id)


async def test_making_a_voice_private_stops_other_members_covers_only(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    endless_cover: EndlessCover,
) -> None:
    owner, other = people["owner"], people["other"]
    runner = running_bot.cover_runner
    olive = await add_voice(running_bot, "Olive", owner, guild, visibility=Visibility.GUILD)
    theirs = await submit(running_bot, guild, other, olive)
    await until_running(runner, theirs)
    own = await submit(running_bot, guild, owner, olive)

    log = await run_command(
        fake_discord, guild, owner, "voice", sub("share", voice=olive.id, shared=False)
    )
    assert "it is private again" in reply_text(log)
    await ended_with(running_bot, theirs, JobState.CANCELLED, PRIVATE.format("Olive"))
    assert told(fake_discord, guild, theirs, PRIVATE.format("Olive"))
    await until_running(runner, own)  # the owner's own cover goes on
    assert runner.running(own.id)
    await runner.cancel(own.id)


async def test_a_hide_from_outside_the_bot_is_caught_when_the_turn_comes(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    endless_cover: EndlessCover,
) -> None:
    owner, other = people["owner"], people["other"]
    runner = running_bot.cover_runner
    first = await add_voice(running_bot, "First", owner, guild, visibility=Visibility.GUILD)
    olive = await add_voice(running_bot, "Olive", owner, guild, visibility=Visibility.GUILD)
    running = await submit(running_bot, guild, other, first)
    await until_running(runner, running)
    waiting = await submit(running_bot, guild, other, olive)
    # as another process (the CLI) would: only the database changes
    await running_bot.store.hides.hide(olive.id, guild.id, hidden_by=1, reason="elsewhere")

    await runner.cancel(running.id)
    async with asyncio.timeout(15):
        while runner.running(waiting.id):
            await asyncio.sleep(0.01)
    await ended_with(running_bot, waiting, JobState.CANCELLED, HIDDEN.format("Olive"))
    assert told(fake_discord, guild, waiting, HIDDEN.format("Olive"))
    assert endless_cover.started == [running_bot.library.folder(first.id)]
