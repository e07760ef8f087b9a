"""``/settings`` (server options, checked locally) and ``/detect`` (the Perth watermark)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from bot.client import ParrotBot
from bot.store.models import Visibility
from tests.bot.conftest import add_voice, reply_text
from tests.fakediscord import FakeDiscord, FakeGuild


def _options(**values: Any) -> list[dict[str, Any]]:
    types = {bool: 5, int: 4, str: 3}
    return [{"name": k, "type": types[type(v)], "value": v} for k, v in values.items()]


async def test_settings_are_for_managers_and_take_effect(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
) -> None:
    admin, member = people["admin"], people["other"]
    denied = await fake_discord.slash(guild, member, "settings", _options(max_length=50))
    await fake_discord.wait_for(lambda: denied.answered)
    assert "Manage Server" in reply_text(denied)
    assert (await running_bot.store.settings.guild(guild.id)).max_text_chars == 300

    private = await add_voice(running_bot, "Mine", admin, guild)
    shared = await add_voice(running_bot, "Ours", admin, guild, visibility=Visibility.GUILD)
    log = await fake_discord.slash(guild, admin, "settings", _options(default_voice=private.id))
    await fake_discord.wait_for(lambda: log.answered)
    assert "private; share it" in reply_text(log)

    role = guild.roles[-1]  # the admin's own role
    options = _options(max_length=50, announce_names=True, default_voice=shared.id)
    options.append({"name": "required_role", "type": 8, "value": role["id"]})
    log = await fake_discord.slash(
        guild,
        admin,
        "settings",
        options,
        resolved={"roles": {role["id"]: role}},
    )
    await fake_discord.wait_for(lambda: log.answered)
    text = reply_text(log)
    assert "50 characters" in text and "Ours" in text
    current = await running_bot.store.settings.guild(guild.id)
    assert current.announce_names and current.required_role_id == int(role["id"])

    refused = await fake_discord.slash(
        guild, member, "say", [{"name": "text", "type": 3, "value": "Hello."}]
    )
    await fake_discord.wait_for(lambda: refused.answered)
    assert "for members with the" in reply_text(refused)

    log = await fake_discord.slash(guild, admin, "settings", _options(clear_required_role=True))
    await fake_discord.wait_for(lambda: log.answered)
    assert (await running_bot.store.settings.guild(guild.id)).required_role_id is None
    too_long = await fake_discord.slash(  # another member: the refusal above spent a cooldown
        guild, people["owner"], "say", [{"name": "text", "type": 3, "value": "x" * 60}]
    )
    await fake_discord.wait_for(lambda: too_long.answered)
    assert "60 characters; the limit here is 50" in reply_text(too_long)


async def test_detect_finds_the_watermark_only_where_it_is(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    speech_clips: dict[str, Path],
    tmp_path: Path,
) -> None:
    import perth

    audio, rate = soundfile.read(speech_clips["wav"], dtype="float32")
    marked = perth.PerthImplicitWatermarker().apply_watermark(audio, sample_rate=rate)
    marked_path = tmp_path / "parrot-output.wav"
    soundfile.write(marked_path, np.asarray(marked, dtype=np.float32), rate)
    answers = []
    for path in (marked_path, speech_clips["wav"]):
        payload = fake_discord.add_attachment(path.name, path.read_bytes(), "audio/wav")
        log = await fake_discord.slash(
            guild,
            people["other"],
            "detect",
            [{"name": "clip", "type": 11, "value": payload["id"]}],
            resolved={"attachments": {payload["id"]: payload}},
        )
        await fake_discord.wait_for(lambda log=log: bool(log.followups), 60)
        answers.append(reply_text(log))
    assert "carries Parrot's watermark" in answers[0]
    assert "No Parrot watermark found" in answers[1]
