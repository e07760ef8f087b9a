"""``/voice delete`` and ``/moderate delete`` stop the voice's covers, running or waiting,
and tell each requester in their channel why, before the voice's files go.

The cover itself is a stand-in that waits until cancelled: what is under test is the
runner, the deletion and what Discord receives, not the singing (see test_cover_e2e)."""

from __future__ import annotations

from typing import Any

from bot.client import ParrotBot
from bot.exts.covers.runner import VOICE_DELETED
from bot.store.models import JobState, Visibility
from tests.bot.conftest import add_voice, reply_text, sub
from tests.bot.cover_support import EndlessCover, submit, until_running, until_sung_from
from tests.fakediscord import FakeDiscord, FakeGuild


async def confirm_deletion(
    fake: FakeDiscord, guild: FakeGuild, member: dict[str, Any], command: str, options: Any
) -> Any:
    log = await fake.slash(guild, member, command, options)
    await fake.wait_for(lambda: log.answered)
    confirm_id = log.callbacks[0]["data"]["components"][0]["components"][0]["custom_id"]
    await fake.click(guild, member, log.sent[0], confirm_id)
    await fake.wait_for(lambda: any("Deleted" in text for text in log.texts()))
    return log


async def test_deleting_a_voice_stops_its_covers_and_tells_their_requesters(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    endless_cover: EndlessCover,
) -> None:
    owner, other, admin = people["owner"], people["other"], people["admin"]
    runner = running_bot.cover_runner
    channel = int(guild.text_channel["id"])
    deletions: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        ("voice", owner, {}),
        ("moderate", admin, {"reason": "Spam"}),
    ]
    for attempt, (command, member, extra) in enumerate(deletions):
        shared = Visibility.GUILD  # the other member covers with them
        voice = await add_voice(running_bot, f"Olive{attempt}", owner, guild, visibility=shared)
        kept = await add_voice(running_bot, f"Kept{attempt}", owner, guild, visibility=shared)
        running = await submit(running_bot, guild, other, voice)
        await until_running(runner, running)
        waiting = await submit(running_bot, guild, owner, voice)  # one cover at a time
        elsewhere = await submit(running_bot, guild, other, kept)
        assert runner.queue.position(waiting.id) == 1

        options = sub("delete", voice=voice.id, **extra)
        log = await confirm_deletion(fake_discord, guild, member, command, options)
        assert f"Deleted **Olive{attempt}**" in reply_text(log)
        for job in (running, waiting):
            ended = await running_bot.store.jobs.get(job.id)
            assert ended is not None and ended.state is JobState.CANCELLED
            assert ended.error == VOICE_DELETED
            assert not runner.running(job.id)
        posted = [message["content"] for message in fake_discord.channel_messages[channel]]
        for job in (running, waiting):  # each requester is mentioned with the reason
            assert any(
                text.startswith(f"<@{job.user_id}>") and VOICE_DELETED in text for text in posted
            ), posted
        assert not running_bot.library.folder(voice.id).exists()

        # the other voice's cover goes on: it is the one running now
        await until_running(runner, elsewhere)
        await until_sung_from(endless_cover, running_bot.library.folder(kept.id))
        await runner.cancel(elsewhere.id)
        fake_discord.channel_messages[channel].clear()
