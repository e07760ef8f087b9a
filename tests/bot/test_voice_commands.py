"""``/voice …`` through the real discord.py client and the fake Discord."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.client import ParrotBot
from bot.store.models import Visibility
from tests.bot.conftest import add_voice, reply_text, sub
from tests.engine.speech import espeak
from tests.fakediscord import FakeDiscord, FakeGuild

EPHEMERAL = 64


def _attachment_option(
    fake: FakeDiscord, path: Path, *, filename: str | None = None, content_type: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    payload = fake.add_attachment(filename or path.name, path.read_bytes(), content_type)
    option = {"name": "sample", "type": 11, "value": payload["id"]}
    return option, {"attachments": {payload["id"]: payload}}


async def _enroll(
    fake: FakeDiscord,
    guild: FakeGuild,
    member: dict[str, Any],
    path: Path,
    *,
    name: str = "Olive",
    consent: bool = True,
    filename: str | None = None,
    content_type: str | None = "audio/wav",
) -> Any:
    option, resolved = _attachment_option(fake, path, filename=filename, content_type=content_type)
    options = [
        {"name": "name", "type": 3, "value": name},
        option,
        {"name": "consent", "type": 5, "value": consent},
    ]
    log = await fake.slash(
        guild,
        member,
        "voice",
        [{"name": "enroll", "type": 1, "options": options}],
        resolved=resolved,
    )
    await fake.wait_for(lambda: bool(log.followups) or _answered_directly(log), timeout=120)
    return log


def _answered_directly(log: Any) -> bool:
    return any(c["type"] == 4 for c in log.callbacks)


async def test_enrol_from_an_ogg_voice_message_then_manage_the_voice(
    speaking_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    speech_clips: dict[str, Path],
) -> None:
    owner = people["owner"]
    log = await _enroll(
        fake_discord,
        guild,
        owner,
        speech_clips["ogg"],
        filename="voice-message.ogg",
        content_type="audio/ogg",
    )
    assert log.callbacks[0]["type"] == 5  # deferred: enrolment takes longer than 3 s
    text = reply_text(log)
    assert "Enrolled **Olive**" in text and "quality" in text and " s of audio" in text
    assert log.followups[0]["flags"] & EPHEMERAL
    [voice] = await speaking_bot.store.voices.list(owner_id=int(owner["id"]))
    assert voice.visibility is Visibility.PRIVATE and voice.consent_at
    [sample] = await speaking_bot.store.voices.samples(voice.id)
    assert sample.original_name == "voice-message.ogg"
    folder = speaking_bot.library.folder(voice.id)
    assert (folder / "conds-chatterbox-original.pt").is_file()
    uploads = speaking_bot.settings.data_dir / "tmp" / "uploads"
    assert not any(uploads.iterdir())  # the download is gone once enrolled

    log = await fake_discord.slash(guild, owner, "voice", sub("list"))
    await fake_discord.wait_for(lambda: log.answered)
    assert "Olive (yours)" in reply_text(log)

    log = await fake_discord.slash(guild, owner, "voice", sub("share", voice=voice.id, shared=True))
    await fake_discord.wait_for(lambda: log.answered)
    assert (await speaking_bot.store.voices.get(voice.id)).visibility is Visibility.GUILD  # type: ignore[union-attr]

    log = await fake_discord.slash(
        guild, owner, "voice", sub("rename", voice="olive", new_name="Olive Two")
    )
    await fake_discord.wait_for(lambda: log.answered)
    assert "Renamed **Olive** to **Olive Two**" in reply_text(log)

    log = await fake_discord.slash(guild, owner, "voice", sub("default", voice=voice.id))
    await fake_discord.wait_for(lambda: log.answered)
    stored = await speaking_bot.store.settings.member_voice(guild.id, int(owner["id"]))
    assert stored == voice.id

    # delete asks first; only the asker may confirm; confirming removes rows and files
    log = await fake_discord.slash(guild, owner, "voice", sub("delete", voice=voice.id))
    await fake_discord.wait_for(lambda: log.answered)
    message = log.sent[0]
    confirm_id = log.callbacks[0]["data"]["components"][0]["components"][0]["custom_id"]
    stranger = await fake_discord.click(guild, people["other"], message, confirm_id)
    await fake_discord.wait_for(lambda: stranger.answered)
    assert "Only the member who asked" in reply_text(stranger)
    assert await speaking_bot.store.voices.get(voice.id) is not None
    click = await fake_discord.click(guild, owner, message, confirm_id)
    await fake_discord.wait_for(lambda: any("Deleted" in t for t in log.texts()))
    assert click.callbacks[0]["type"] == 7  # the buttons were disabled in place
    assert await speaking_bot.store.voices.get(voice.id) is None
    assert not folder.exists()
    assert await speaking_bot.store.settings.member_voice(guild.id, int(owner["id"])) is None


async def test_add_sample_rebuilds_the_voice(
    speaking_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    speech_clips: dict[str, Path],
) -> None:
    owner = people["owner"]
    await _enroll(fake_discord, guild, owner, speech_clips["wav"])
    [voice] = await speaking_bot.store.voices.list(owner_id=int(owner["id"]))
    conditionals = speaking_bot.library.folder(voice.id) / "conds-chatterbox-original.pt"
    before = conditionals.stat().st_mtime_ns
    option, resolved = _attachment_option(fake_discord, speech_clips["mp3"])
    options = [{"name": "voice", "type": 3, "value": voice.id}, option]
    log = await fake_discord.slash(
        guild,
        owner,
        "voice",
        [{"name": "add-sample", "type": 1, "options": options}],
        resolved=resolved,
    )
    await fake_discord.wait_for(lambda: bool(log.followups), timeout=120)
    assert "2 in all" in reply_text(log)
    assert len(await speaking_bot.store.voices.samples(voice.id)) == 2
    assert conditionals.stat().st_mtime_ns != before


@pytest.mark.parametrize(
    ("filename", "content_type", "consent", "expected"),
    [
        ("notes.pdf", "application/pdf", True, "is not an audio file"),
        ("speech.wav", "audio/wav", False, "consent"),
    ],
)
async def test_enrol_refusals_before_any_download(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    tmp_path: Path,
    filename: str,
    content_type: str,
    consent: bool,
    expected: str,
) -> None:
    path = tmp_path / "clip.bin"
    path.write_bytes(b"\x00" * 2048)
    log = await _enroll(
        fake_discord,
        guild,
        people["owner"],
        path,
        filename=filename,
        content_type=content_type,
        consent=consent,
    )
    assert expected in reply_text(log)
    assert log.callbacks[0]["data"]["flags"] & EPHEMERAL
    assert fake_discord.cdn_downloads == []


async def test_enrol_refuses_a_file_over_the_limit_before_download(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
) -> None:
    payload = fake_discord.add_attachment("huge.wav", b"RIFF", "audio/wav")
    payload["size"] = 200 * 1024 * 1024  # what Discord says the file weighs
    options = [
        {"name": "name", "type": 3, "value": "Big"},
        {"name": "sample", "type": 11, "value": payload["id"]},
        {"name": "consent", "type": 5, "value": True},
    ]
    log = await fake_discord.slash(
        guild,
        people["owner"],
        "voice",
        [{"name": "enroll", "type": 1, "options": options}],
        resolved={"attachments": {payload["id"]: payload}},
    )
    await fake_discord.wait_for(lambda: log.answered)
    assert "200.0 MB; the limit is 25.0 MB" in reply_text(log)
    assert fake_discord.cdn_downloads == []


async def test_enrol_refuses_audio_that_is_too_short(
    speaking_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    path = espeak(tmp_path / "blip.wav", "Hi.", speed=300)
    log = await _enroll(fake_discord, guild, people["owner"], path)
    assert "0.2 s of speech; at least 1 s is needed" in reply_text(log)
    assert await speaking_bot.store.voices.count() == 0
    assert not any((speaking_bot.settings.data_dir / "voices").glob("*"))


# the permission matrix ------------------------------------------------------------------
ALLOWED = {
    # (actor, visibility) -> may manage (rename/share/delete/add-sample), may use (info/default)
    ("owner", Visibility.PRIVATE): (True, True),
    ("other", Visibility.PRIVATE): (False, False),
    ("admin", Visibility.PRIVATE): (True, True),
    ("owner", Visibility.GUILD): (True, True),
    ("other", Visibility.GUILD): (False, True),
    ("admin", Visibility.GUILD): (True, True),
}


@pytest.mark.parametrize("visibility", [Visibility.PRIVATE, Visibility.GUILD])
async def test_permission_matrix(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    visibility: Visibility,
) -> None:
    for actor in ("owner", "other", "admin"):
        may_manage, may_use = ALLOWED[(actor, visibility)]
        voice = await add_voice(
            running_bot, f"V {actor}", people["owner"], guild, visibility=visibility
        )
        member = people[actor]
        calls = {
            "info": (sub("info", voice=voice.id), may_use, "Owner"),
            "default": (sub("default", voice=voice.id), may_use, "is now"),
            "rename": (sub("rename", voice=voice.id, new_name=f"R {actor}"), may_manage, "Renamed"),
            "share": (sub("share", voice=voice.id, shared=True), may_manage, "everyone"),
            "delete": (sub("delete", voice=voice.id), may_manage, "cannot be undone"),
        }
        for command, (options, allowed, success) in calls.items():
            log = await fake_discord.slash(guild, member, "voice", options)
            await fake_discord.wait_for(lambda log=log: log.answered)
            text = reply_text(log)
            context = f"{actor} /voice {command} on a {visibility} voice: {text!r}"
            if allowed:
                assert success in text, context
            else:
                assert "don't know a voice" in text or "Only the owner" in text, context
            assert log.callbacks[0]["data"]["flags"] & EPHEMERAL, context


async def test_autocomplete_lists_usable_voices_only(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
) -> None:
    await add_voice(running_bot, "Mine", people["owner"], guild)
    await add_voice(running_bot, "Shared", people["admin"], guild, visibility=Visibility.GUILD)
    await add_voice(running_bot, "Hidden", people["admin"], guild)
    await add_voice(running_bot, "Preset", None, guild, visibility=Visibility.GLOBAL)
    for index in range(30):
        await add_voice(running_bot, f"Extra {index}", people["owner"], guild)
    choices = await fake_discord.autocomplete(guild, people["owner"], "voice", "info", "voice", "")
    names = [c["name"] for c in choices]
    assert len(names) == 25  # Discord's limit
    assert "Hidden" not in " ".join(names)
    choices = await fake_discord.autocomplete(
        guild, people["owner"], "voice", "info", "voice", "sha"
    )
    assert [c["name"] for c in choices] == ["Shared (server)"]
