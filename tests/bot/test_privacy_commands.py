"""``/privacy export`` and ``/privacy delete`` through the real client and the fake Discord."""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
import zipfile
from typing import Any

from bot.client import ParrotBot
from bot.settings import Settings
from tests.bot.conftest import reply_text, sub
from tests.conftest import started_bot
from tests.fakediscord import FakeDiscord, FakeGuild
from tests.personal_data import MODERATOR, files_mentioning, rows_mentioning, seed_member

EPHEMERAL = 64


async def test_export_sends_a_zip_within_the_upload_limit(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
) -> None:
    owner = people["owner"]
    data_dir = running_bot.settings.data_dir
    await seed_member(running_bot.store, data_dir, int(owner["id"]), guild.id, "ownerdata")
    await seed_member(running_bot.store, data_dir, int(people["other"]["id"]), guild.id, "nope")

    log = await fake_discord.slash(guild, owner, "privacy", sub("export"))
    await fake_discord.wait_for(lambda: bool(log.followups))
    assert log.callbacks[0]["type"] == 5 and log.followups[0]["flags"] & EPHEMERAL
    assert "everything Parrot holds about you" in reply_text(log)
    [(name, data)] = log.files
    assert name == "parrot-data.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("parrot-data.json"))
        samples = [n for n in archive.namelist() if n.endswith(".wav")]
    assert manifest["user_id"] == int(owner["id"]) and len(samples) == 2
    records = manifest["records"]
    assert [v["name"] for v in records["voices"]] == ["ownerdatavoice"]
    assert records["voices"][0]["consent_via"] == "discord"
    assert all(s["consent_via"] == "discord" for s in records["voice_samples"])
    assert [e["action"] for e in records["audit_log"]] == [
        "enrol",
        "rename",
        "settings",
        "hide",
        "hide",
    ]
    assert {h["hidden_by"] for h in records["voice_hides"]} == {int(owner["id"]), MODERATOR}
    assert "nope" not in json.dumps(manifest)
    exports = data_dir / "tmp" / "exports"
    for _ in range(100):  # the temporary zip goes right after the upload
        if not any(exports.iterdir()):
            break
        await asyncio.sleep(0.05)
    assert not any(exports.iterdir())

    small = await fake_discord.slash(
        guild, owner, "privacy", sub("export"), attachment_size_limit=80 * 1024
    )
    await fake_discord.wait_for(lambda: bool(small.followups))
    assert "2 voice sample(s) did not fit" in reply_text(small)
    [(_, data)] = small.files
    assert len(data) <= 80 * 1024
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert not [n for n in archive.namelist() if n.endswith(".wav")]


async def test_delete_asks_then_removes_everything(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
) -> None:
    owner, other = people["owner"], people["other"]
    data_dir = running_bot.settings.data_dir
    mine = await seed_member(running_bot.store, data_dir, int(owner["id"]), guild.id, "deleteme")
    theirs = await seed_member(running_bot.store, data_dir, int(other["id"]), guild.id, "keepme")

    log = await fake_discord.slash(guild, owner, "privacy", sub("delete"))
    await fake_discord.wait_for(lambda: log.answered)
    assert "1 voice(s)" in reply_text(log) and "2 history" in reply_text(log)
    message = log.sent[0]
    [confirm, cancel] = message["components"][0]["components"]
    assert confirm["label"] == "Delete everything"

    declined = await fake_discord.click(guild, owner, message, cancel["custom_id"])
    await fake_discord.wait_for(lambda: "Nothing was deleted." in reply_text(log))
    assert declined.callbacks[0]["type"] == 7
    assert all(path.exists() for path in mine.files)

    log = await fake_discord.slash(guild, owner, "privacy", sub("delete"))
    await fake_discord.wait_for(lambda: log.answered)
    confirm_id = log.sent[0]["components"][0]["components"][0]["custom_id"]
    await fake_discord.click(guild, owner, log.sent[0], confirm_id)
    await fake_discord.wait_for(lambda: "Deleted 1 voice(s)" in reply_text(log))
    assert "nothing about you" in reply_text(log)

    needles = ["deleteme", *mine.voice_ids]
    assert files_mentioning(data_dir, needles) == []
    assert rows_mentioning(data_dir / "parrot.db", {int(owner["id"]), *needles}) == []
    trail = await running_bot.store.audit.entries()
    assert trail[0].action.value == "purge" and str(trail[0].who) == "member (forgotten)"
    assert len(trail) == 11  # five entries each, and the purge: forgotten, not deleted
    assert all(path.exists() for path in theirs.files)


async def test_retention_runs_at_start_up(
    fake_discord: FakeDiscord, guild: FakeGuild, settings: Settings
) -> None:
    old_file = settings.data_dir / "outputs" / "old.wav"
    old_file.parent.mkdir(parents=True)
    old_file.write_bytes(b"generated long ago")
    long_ago = time.time() - 10 * 86400
    os.utime(old_file, (long_ago, long_ago))
    configured = settings.model_copy(update={"retention_days": 3})
    async with started_bot(configured) as parrot:
        cog = parrot.get_cog("RetentionCog")
        for _ in range(100):
            if cog.last_report is not None:  # type: ignore[union-attr]
                break
            await asyncio.sleep(0.05)
        assert cog.last_report.files_removed == ["outputs/old.wav"]  # type: ignore[union-attr]
    assert not old_file.exists()
