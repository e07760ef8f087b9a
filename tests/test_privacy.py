"""Export, purge and retention (bot.privacy) on a real store and data directory."""

from __future__ import annotations

import json
import os
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.privacy import MANIFEST_NAME, PrivacyService
from bot.store import Store
from bot.store.audit import ActorKind, AuditAction
from bot.usage import iso_utc
from tests.personal_data import MODERATOR, files_mentioning, rows_mentioning, seed_member

MEMBER, OTHER, GUILD, OTHER_GUILD = 1001, 2002, 77, 88


async def test_purge_member_leaves_nothing_of_them(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with await Store.open(data_dir / "parrot.db") as store:
        await store.db.fetch_all("PRAGMA secure_delete = OFF")  # some builds' default
        gone = await seed_member(store, data_dir, MEMBER, GUILD, "zebracrossing")
        gone_elsewhere = await seed_member(store, data_dir, MEMBER, OTHER_GUILD, "zebrastripes")
        kept = await seed_member(store, data_dir, OTHER, GUILD, "keepthisone")
        # another member spoke with the purged member's voice: their audio of it goes too
        await store.voices.set_visibility(gone.voice_ids[0], "guild")  # type: ignore[arg-type]
        borrowed = data_dir / "outputs" / "borrowed.wav"
        borrowed.parent.mkdir(parents=True)
        borrowed.write_bytes(b"someone else's speech in the purged voice")
        await store.generations.record(
            kind="speech",
            user_id=OTHER,
            guild_id=GUILD,
            voice_id=gone.voice_ids[0],
            characters=5,
            output_path="outputs/borrowed.wav",
        )
        await store.personal.checkpoint()  # the member's rows are in parrot.db itself now
        # cover stages (stems of their songs, vocals in their voice) are keyed by content
        stems = data_dir / "cache" / "covers" / "stems" / "abc123" / "vocals.flac"
        stems.parent.mkdir(parents=True)
        stems.write_bytes(b"zebra vocals")
        traces = rows_mentioning(data_dir / "parrot.db", {MEMBER, "zebra", *gone.voice_ids})
        assert {hit.split(".")[0] for hit in traces} >= {"audit_log", "voice_hides"}
        trail_before = len(await store.audit.entries())

        report = await PrivacyService(store, data_dir).purge_member(MEMBER)

        assert report.voices == 2
        assert report.rows["generations"] == 4 and report.rows["jobs"] == 2
        assert report.rows["member_settings"] == 2
        assert report.files_removed == len(gone.files) + len(gone_elsewhere.files) + 2
        others = await store.generations.for_user(OTHER, limit=50)
        assert len(others) == 3  # the borrowed entry stays in their history, without a file
        assert all(g.output_path is None for g in others if g.voice_id is None)
        await assert_trail_forgets_the_member(store, trail_before)

    everything = [*gone.files, *gone_elsewhere.files, borrowed, stems]
    assert not any(path.exists() for path in everything)
    assert all(path.exists() for path in kept.files)
    needles = ["zebra", *gone.voice_ids, *gone_elsewhere.voice_ids]
    assert files_mentioning(data_dir, needles) == []
    preferences = {gone.speech_seed, gone_elsewhere.speech_seed}  # their language and style
    assert rows_mentioning(data_dir / "parrot.db", {MEMBER, *needles, *preferences}) == []
    assert rows_mentioning(data_dir / "parrot.db", {OTHER})  # the other member is untouched


async def assert_trail_forgets_the_member(store: Store, entries_before: int) -> None:
    """The actions and their times stay; who made them and which voice they were about go,
    except another member's voice that the purged member acted on."""
    trail = await store.audit.entries()
    assert len(trail) == entries_before + 1  # nothing deleted, the purge recorded
    purge = trail[0]
    assert purge.action is AuditAction.PURGE and purge.who.kind is ActorKind.MEMBER
    assert purge.who.member_id is None and purge.detail == {"target": "member", "voices": 2}
    forgotten = [e for e in trail if e.who.kind is ActorKind.MEMBER and e.who.member_id is None]
    assert sorted(e.action.value for e in forgotten[1:]) == sorted(
        ["enrol", "rename", "settings", "hide"] * 2
    )
    assert all(e.detail is None for e in forgotten[1:])
    assert all(e.at for e in trail)
    hides_of_presets = [e for e in forgotten if e.action is AuditAction.HIDE]
    assert all(e.voice_id is not None for e in hides_of_presets)  # the preset's trail
    their_voices = [e for e in forgotten if e.action is not AuditAction.HIDE]
    assert all(e.voice_id is e.voice_name is e.voice_owner_id is None for e in their_voices)
    moderated = await store.audit.entries(member_id=MODERATOR)
    hidden_by_moderator = [e for e in moderated if e.guild_id in (GUILD, OTHER_GUILD)]
    assert len(hidden_by_moderator) == 3  # the purged member's two voices and OTHER's
    assert sum(e.voice_id is None and e.detail is None for e in hidden_by_moderator) == 2
    # hides of their voices went with them; hides they made stay, without who or why
    hides = [tuple(row) for row in await store.db.fetch_all("SELECT * FROM voice_hides")]
    assert len(hides) == 4 and {row[2] for row in hides} == {None, OTHER, MODERATOR}
    assert [row[3] for row in hides if row[2] is None] == [None, None]


async def test_purge_guild(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with await Store.open(data_dir / "parrot.db") as store:
        there = await seed_member(store, data_dir, MEMBER, GUILD, "leavingguild")
        elsewhere = await seed_member(store, data_dir, MEMBER, OTHER_GUILD, "stayingguild")
        await store.settings.update_guild(GUILD, announce_names=True)
        await store.settings.update_guild(OTHER_GUILD, announce_names=True)

        report = await PrivacyService(store, data_dir).purge_guild(GUILD)

        assert report.voices == 1 and report.rows["guild_settings"] == 1
        assert report.rows["voice_hides"] == 2  # both hides made there
        trail = await store.audit.entries()
        assert trail[0].action is AuditAction.PURGE and trail[0].detail == {
            "target": "server",
            "voices": 1,
        }
        # what they did stays theirs; the moderator's hide of the deleted voice names no voice
        assert len(await store.audit.entries(member_id=MEMBER)) == 9
        assert len(await store.audit.entries(voice_id=elsewhere.voice_ids[0])) == 3
        assert (await store.settings.guild(GUILD)).announce_names is False
        assert (await store.settings.guild(OTHER_GUILD)).announce_names is True
        assert await store.settings.member_voice(OTHER_GUILD, MEMBER) == elsewhere.voice_ids[0]
    assert files_mentioning(data_dir, ["leavingguild", *there.voice_ids]) == []
    assert (
        rows_mentioning(data_dir / "parrot.db", {GUILD, *there.voice_ids, there.speech_seed}) == []
    )
    assert rows_mentioning(data_dir / "parrot.db", {elsewhere.speech_seed})  # kept elsewhere
    assert all(path.exists() for path in elsewhere.files)


async def test_export_member_holds_their_data_and_respects_the_limit(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with await Store.open(data_dir / "parrot.db") as store:
        seeded = await seed_member(store, data_dir, MEMBER, GUILD, "exported")
        await seed_member(store, data_dir, OTHER, GUILD, "notexported")
        service = PrivacyService(store, data_dir)

        full = await service.export_member(MEMBER, tmp_path / "full.zip")
        small = await service.export_member(MEMBER, tmp_path / "small.zip", max_bytes=66 * 1024)

    assert (full.samples_included, full.samples_left_out) == (2, 0)
    with zipfile.ZipFile(full.path) as archive:
        manifest = json.loads(archive.read(MANIFEST_NAME))
        names = archive.namelist()
        sample_bytes = [archive.read(n) for n in names if n.endswith(".wav")]
    records = manifest["records"]
    assert manifest["user_id"] == MEMBER
    assert [v["name"] for v in records["voices"]] == ["exportedvoice"]
    assert len(records["voice_samples"]) == 2 and len(records["generations"]) == 2
    assert records["member_settings"][0]["default_voice_id"] == seeded.voice_ids[0]
    speaking = records["member_settings"][0]  # their language and style there
    assert speaking["language"] == "fr" and speaking["seed"] == seeded.speech_seed
    assert speaking["exaggeration"] == 0.7 and speaking["cfg_weight"] is None
    assert records["jobs"][0]["params"] == {"song": "exported song"}
    assert records["voices"][0]["consent_via"] == "discord"
    assert records["voices"][0]["consent_at"].startswith("2026-01-02T03:04:05")
    assert {(s["consent_via"], s["consent_at"][:10]) for s in records["voice_samples"]} == {
        ("discord", "2026-01-02")
    }
    trail = records["audit_log"]
    assert [(e["action"], e["actor_id"]) for e in trail] == [
        ("enrol", MEMBER),
        ("rename", MEMBER),
        ("settings", MEMBER),
        ("hide", MODERATOR),  # made by someone else, about their voice
        ("hide", MEMBER),  # made by them as a moderator, of a preset
    ]
    assert trail[1]["detail"] == {"from": "exportedold", "to": "exportedvoice"}
    hides = {(h["hidden_by"], h["voice_id"] == seeded.voice_ids[0]) for h in records["voice_hides"]}
    assert hides == {(MODERATOR, True), (MEMBER, False)}
    assert "notexported" not in json.dumps(manifest)
    assert sorted(sample_bytes) == sorted(p.read_bytes() for p in seeded.files[:2])

    assert small.size <= 66 * 1024
    assert (small.samples_included, small.samples_left_out) == (0, 2)
    with zipfile.ZipFile(small.path) as archive:
        manifest = json.loads(archive.read(MANIFEST_NAME))
    assert all(entry["left_out"] for entry in manifest["sample_files"])
    assert len(manifest["records"]["voice_samples"]) == 2  # metadata is always complete


async def test_retention_deletes_old_generated_audio_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with await Store.open(data_dir / "parrot.db") as store:
        seeded = await seed_member(store, data_dir, MEMBER, GUILD, "aging")
        orphan = data_dir / "outputs" / "nested" / "orphan.wav"
        orphan.parent.mkdir(parents=True)
        orphan.write_bytes(b"old and unreferenced")
        old = time.time() - 40 * 86400
        os.utime(orphan, (old, old))
        fresh = data_dir / "outputs" / "fresh.wav"
        fresh.write_bytes(b"new")
        service = PrivacyService(store, data_dir)

        nothing = await service.expire_audio(30)
        assert nothing.files_removed == [orphan.relative_to(data_dir).as_posix()]

        later = datetime.now(UTC) + timedelta(days=31)
        report = await service.expire_audio(30, now=later)
        assert report.cutoff > iso_utc(datetime.now(UTC))
        history = await store.generations.for_user(MEMBER)
        job_rows = await store.personal.member_records(MEMBER)

    outputs = [p for p in seeded.files if "covers" in p.parts and "inputs" not in p.parts]
    assert sorted(report.files_removed) == sorted(
        p.relative_to(data_dir).as_posix() for p in [*outputs, fresh]
    )
    assert not any(p.exists() for p in outputs) and not orphan.parent.exists()
    assert all(g.output_path is None for g in history) and len(history) == 2
    assert job_rows["jobs"][0]["output_path"] is None
    assert job_rows["jobs"][0]["input_path"] is not None  # the member's upload is not "generated"
    assert all(p.exists() for p in seeded.files if "voices" in p.parts)


async def test_a_purge_cut_short_after_its_rows_is_finished_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    async with await Store.open(data_dir / "parrot.db") as store:
        seeded = await seed_member(store, data_dir, MEMBER, GUILD, "interrupted")
        kept = await seed_member(store, data_dir, OTHER, GUILD, "untouched")

        async def crash(*_: object) -> None:
            raise SystemExit("power cut")

        with monkeypatch.context() as patch:
            patch.setattr(PrivacyService, "_remove_files", crash)
            with pytest.raises(SystemExit):
                await PrivacyService(store, data_dir).purge_member(MEMBER)
        assert await store.voices.get(seeded.voice_ids[0]) is None  # the rows went first
        assert all(path.exists() for path in seeded.files)  # the files are orphans now

        removed = await PrivacyService(store, data_dir).finish_interrupted()
        assert removed == len(seeded.files)
        assert await PrivacyService(store, data_dir).finish_interrupted() == 0
    assert files_mentioning(data_dir, ["interrupted", *seeded.voice_ids]) == []
    assert all(path.exists() for path in kept.files)
