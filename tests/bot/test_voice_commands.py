"""``/voice …`` through the real discord.py client and the fake Discord."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.client import ParrotBot
from bot.store.audit import AuditAction, Who
from bot.store.models import ConsentPath, Visibility
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
    log = await fake_discord.slash(guild, owner, "voice", sub("info", voice=voice.id))
    await fake_discord.wait_for(lambda: log.answered)
    assert f"{voice.consent_at[:10]} via Discord" in reply_text(log)  # type: ignore[index]
    other = await fake_discord.slash(guild, people["other"], "voice", sub("info", voice=voice.id))
    await fake_discord.wait_for(lambda: other.answered)
    fields = {f["name"]: f["value"] for f in other.callbacks[0]["data"]["embeds"][0]["fields"]}
    assert fields["Consent"] == "given via Discord"  # the owner's record is theirs

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

    # each action is in the audit trail: who, which voice, where
    entries = list(reversed(await speaking_bot.store.audit.entries(voice_id=voice.id)))
    actions = [entry.action for entry in entries]
    assert actions == [AuditAction.ENROL, AuditAction.SHARE, AuditAction.RENAME, AuditAction.DELETE]
    assert {entry.who for entry in entries} == {Who.member(int(owner["id"]))}
    assert {entry.guild_id for entry in entries} == {guild.id}
    assert entries[2].detail == {"from": "Olive", "to": "Olive Two"}
    assert entries[3].voice_name == "Olive Two"


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
    log = await _add_sample(fake_discord, guild, owner, voice.id, speech_clips["mp3"])
    await fake_discord.wait_for(lambda: bool(log.followups), timeout=120)
    assert "2 in all" in reply_text(log)
    _, second = await speaking_bot.store.voices.samples(voice.id)
    assert conditionals.stat().st_mtime_ns != before
    assert second.consent is not None and second.consent.via is ConsentPath.DISCORD
    rows = await speaking_bot.store.db.fetch_all(
        "SELECT consent_via FROM voice_samples WHERE voice_id = ?", (voice.id,)
    )
    assert [row[0] for row in rows] == ["discord", "discord"]
    [entry, _] = await speaking_bot.store.audit.entries(voice_id=voice.id)
    assert entry.action is AuditAction.ADD_SAMPLE and entry.who == Who.member(int(owner["id"]))
    assert entry.guild_id == guild.id


async def _add_sample(
    fake: FakeDiscord,
    guild: FakeGuild,
    member: dict[str, Any],
    voice: str,
    path: Path,
    *,
    consent: bool = True,
) -> Any:
    option, resolved = _attachment_option(fake, path)
    options = [
        {"name": "voice", "type": 3, "value": voice},
        option,
        {"name": "consent", "type": 5, "value": consent},
    ]
    return await fake.slash(
        guild,
        member,
        "voice",
        [{"name": "add-sample", "type": 1, "options": options}],
        resolved=resolved,
    )


async def test_add_sample_without_consent_is_refused_before_any_download(
    running_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    voice = await add_voice(running_bot, "Olive", people["owner"], guild)
    path = tmp_path / "clip.wav"
    path.write_bytes(b"\x00" * 2048)
    log = await _add_sample(fake_discord, guild, people["owner"], voice.id, path, consent=False)
    await fake_discord.wait_for(lambda: log.answered)
    assert "Set `consent` to True" in reply_text(log)
    assert fake_discord.cdn_downloads == []
    assert await running_bot.store.voices.samples(voice.id) == []


@pytest.mark.parametrize(
    ("filename", "content_type", "consent", "expected"),
    [
        ("notes.pdf", "application/pdf", True, "is not an audio file"),
        ("photo.wav", "image/png", True, "Discord says it is `image/png`"),  # type over name
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
    # (actor, visibility) -> may change (rename/share/delete), may use (info/default)
    ("owner", Visibility.PRIVATE): (True, True),
    ("other", Visibility.PRIVATE): (False, False),
    ("admin", Visibility.PRIVATE): (False, False),  # managers moderate: /moderate
    ("owner", Visibility.GUILD): (True, True),
    ("other", Visibility.GUILD): (False, True),
    ("admin", Visibility.GUILD): (False, True),
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
            if not allowed and actor == "admin" and visibility is Visibility.GUILD:
                assert "`/moderate`" in text, context  # what a manager may do instead
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
