"""``/settings`` (server options, checked locally) and ``/detect`` (the Perth watermark)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from bot.client import ParrotBot
from bot.store.models import Visibility
from engine.watermark.detect import WatermarkCheck
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
    for path, member in ((marked_path, people["other"]), (speech_clips["wav"], people["owner"])):
        payload = fake_discord.add_attachment(path.name, path.read_bytes(), "audio/wav")
        log = await fake_discord.slash(
            guild,
            member,  # one check each: a member waits detect_cooldown_seconds between two
            "detect",
            [{"name": "clip", "type": 11, "value": payload["id"]}],
            resolved={"attachments": {payload["id"]: payload}},
        )
        await fake_discord.wait_for(lambda log=log: bool(log.followups), 60)
        answers.append(reply_text(log))
    assert "carries Parrot's watermark" in answers[0]
    assert "No Parrot watermark found" in answers[1]


class GatedDetector:
    """Stands in for ``Engine.detect_watermark``: each check waits until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.running = 0

    async def __call__(self, clip: Path, **limits: Any) -> WatermarkCheck:
        assert clip.is_file()
        self.running += 1
        try:
            await self.release.wait()
        finally:
            self.running -= 1
        return WatermarkCheck(0.1)


async def _detect(
    fake: FakeDiscord, guild: FakeGuild, member: dict[str, Any], name: str, content_type: str
) -> Any:
    payload = fake.add_attachment(name, b"RIFF\x00\x00\x00\x00WAVE" * 100, content_type)
    return await fake.slash(
        guild,
        member,
        "detect",
        [{"name": "clip", "type": 11, "value": payload["id"]}],
        resolved={"attachments": {payload["id"]: payload}},
    )


async def test_detect_has_a_cooldown_for_accepted_checks_and_a_bound_on_concurrent_ones(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    detector = GatedDetector()
    monkeypatch.setattr(running_bot.engine, "detect_watermark", detector)
    owner, other, admin = people["owner"], people["other"], people["admin"]
    limit = running_bot.settings.max_concurrent_detects
    assert limit == 2 and running_bot.settings.detect_cooldown_seconds == 10

    # an image named .wav is refused from its declared type, without a download, and
    # spends no cooldown: the same member's real clip right after is checked
    image = await _detect(fake_discord, guild, owner, "photo.wav", "image/png")
    await fake_discord.wait_for(lambda: image.answered)
    assert "is not an audio file (Discord says it is `image/png`)" in reply_text(image)
    assert fake_discord.cdn_downloads == []
    first = await _detect(fake_discord, guild, owner, "clip.wav", "audio/wav")
    second = await _detect(fake_discord, guild, other, "clip.wav", "audio/wav")
    await fake_discord.wait_for(lambda: first.answered and second.answered)
    assert first.callbacks[0]["type"] == second.callbacks[0]["type"] == 5  # both accepted

    # the owner again, at once: slow down; a third member while two run: busy
    again = await _detect(fake_discord, guild, owner, "clip.wav", "audio/wav")
    busy = await _detect(fake_discord, guild, admin, "clip.wav", "audio/wav")
    await fake_discord.wait_for(lambda: again.answered and busy.answered)
    assert "Slow down a little: you can check a clip again in 10 s." in reply_text(again)
    assert "already checking 2 clip(s)" in reply_text(busy)
    async with asyncio.timeout(15):
        while detector.running < 2:
            await asyncio.sleep(0.01)
    assert len(fake_discord.cdn_downloads) == 2

    detector.release.set()
    await fake_discord.wait_for(lambda: bool(first.followups) and bool(second.followups))
    assert "No Parrot watermark found" in reply_text(first)
    retry = await _detect(fake_discord, guild, admin, "clip.wav", "audio/wav")  # room again
    await fake_discord.wait_for(lambda: bool(retry.followups))
    assert "No Parrot watermark found" in reply_text(retry)
