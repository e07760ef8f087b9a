"""The audit trail: the repository's filters, ``parrot audit``, and the CLI commands that
write entries (enrolment with ``--consent``, delete, import, singing models), with an
engine stand-in: no model work here."""

from __future__ import annotations

import asyncio
import hashlib
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import bot.cli.covers
import bot.cli.voices
from bot.cli import common
from bot.cli.app import app
from bot.cli.audit import parse_when
from bot.store import Store
from bot.store.audit import ActorKind, AuditAction, AuditEntry, Who
from bot.store.models import Consent, ConsentPath, Voice, VoiceSample
from bot.usage import SinceError
from bot.voices.archive import MANIFEST_NAME, VoiceArchive
from bot.voices.files import VoiceLibrary
from engine.audio.checks import QualityReport
from engine.tts.profile import PreparedSample, VoiceProfile
from tests.library_support import fake_wav

ALICE, BOB, MODERATOR, GUILD, OTHER_GUILD = 101, 202, 303, 11, 22
LONG_AGO = "2020-05-06T07:08:09.000Z"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cli(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.setattr(common.console, "_width", 250)
    monkeypatch.setattr(common.error_console, "_width", 250)
    runner = CliRunner(env={"PARROT_DATA": str(data_dir)})
    return lambda *args: runner.invoke(app, list(args))


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("parrot: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def in_store(data_dir: Path, work: Callable[[Store], Any]) -> Any:
    async def body() -> Any:
        async with await Store.open(data_dir / "parrot.db") as store:
            return await work(store)

    return asyncio.run(body())


async def seed_trail(store: Store) -> dict[str, Voice]:
    """Alice enrols and renames a voice, Bob enrols one elsewhere and deletes it, a
    moderator hides Alice's voice, and the CLI changed a setting long ago."""
    alice = await store.voices.create(name="Wren", owner_id=ALICE, guild_id=GUILD)
    bob = await store.voices.create(name="Robin", owner_id=BOB, guild_id=OTHER_GUILD)
    await store.audit.record(AuditAction.ENROL, Who.member(ALICE), voice=alice)
    await store.audit.record(
        AuditAction.RENAME, Who.member(ALICE), voice=alice, detail={"from": "Jay", "to": "Wren"}
    )
    await store.audit.record(AuditAction.ENROL, Who.member(BOB), voice=bob)
    await store.audit.record(AuditAction.HIDE, Who.member(MODERATOR), voice=alice)
    old = await store.audit.record(AuditAction.SETTINGS, Who.cli(), guild_id=GUILD)
    await store.db.execute("UPDATE audit_log SET at = ? WHERE id = ?", (LONG_AGO, old))
    async with store.unit_of_work() as work:
        await work.voices.delete(bob.id)
        await work.audit.record(AuditAction.DELETE, Who.member(BOB), voice=bob)
    return {"alice": alice, "bob": bob}


def actions(entries: list[AuditEntry]) -> list[str]:
    return [entry.action.value for entry in entries]


# the repository -----------------------------------------------------------------------------
async def test_entries_filter_by_voice_member_guild_time_and_count(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "parrot.db") as store:
        voices = await seed_trail(store)
        everything = await store.audit.entries()
        assert actions(everything) == ["delete", "hide", "enrol", "rename", "enrol", "settings"]
        assert everything[-1].who == Who.cli() and everything[-1].at == LONG_AGO
        renamed = everything[3]
        assert (renamed.voice_name, renamed.voice_owner_id, renamed.guild_id) == ("Wren", ALICE, 11)
        assert renamed.detail == {"from": "Jay", "to": "Wren"}

        on_alice = await store.audit.entries(voice_id=voices["alice"].id)
        assert actions(on_alice) == ["hide", "rename", "enrol"]
        # made by Alice, or about her voices (the moderator's hide)
        assert actions(await store.audit.entries(member_id=ALICE)) == ["hide", "rename", "enrol"]
        assert actions(await store.audit.entries(member_id=MODERATOR)) == ["hide"]
        assert actions(await store.audit.entries(guild_id=OTHER_GUILD)) == ["delete", "enrol"]
        assert len(await store.audit.entries(since="2021-01-01")) == 5
        assert actions(await store.audit.entries(limit=2)) == ["delete", "hide"]
        together = await store.audit.entries(voice_id=voices["alice"].id, member_id=MODERATOR)
        assert actions(together) == ["hide"]

        # deleted voices are still known by id and by the name they had
        assert await store.audit.voice_ids(voices["bob"].id) == [voices["bob"].id]
        assert await store.audit.voice_ids("robin") == [voices["bob"].id]
        assert await store.audit.voice_ids("nobody") == []


def test_since_accepts_dates_and_spans() -> None:
    now = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
    assert parse_when("7d", now=now) == "2026-12-03T12:00:00.000Z"
    assert parse_when("12h", now=now) == "2026-12-10T00:00:00.000Z"
    assert parse_when("30M", now=now) == "2026-12-10T11:30:00.000Z"
    assert parse_when("2w", now=now) == "2026-11-26T12:00:00.000Z"
    assert parse_when("2026-11-01") == "2026-11-01T00:00:00.000Z"
    assert parse_when("2026-11-01T12:30+01:00") == "2026-11-01T11:30:00.000Z"
    for bad in ("last tuesday", "7", "d7", "-3d", "7y"):
        with pytest.raises(SinceError, match="not a time"):
            parse_when(bad)


# parrot audit -------------------------------------------------------------------------------
def test_audit_table_and_filters(cli: Callable[..., Result], data_dir: Path) -> None:
    voices = in_store(data_dir, seed_trail)
    alice, bob = voices["alice"], voices["bob"]

    table = cli("audit")
    assert table.exit_code == 0, table.output
    for expected in ("member 101", "cli", "rename", "from=Jay, to=Wren", alice.id, "Robin"):
        assert expected in table.stdout
    assert "2020-05-06 07:08:09" in table.stdout

    def listed(*args: str) -> list[str]:
        result = cli("audit", *args, "--json")
        assert result.exit_code == 0, result.output
        return [entry["action"] for entry in json.loads(result.stdout)]

    assert listed("--voice", "Wren") == ["hide", "rename", "enrol"]
    assert listed("--voice", alice.id) == ["hide", "rename", "enrol"]
    assert listed("--voice", bob.id) == ["delete", "enrol"]  # a deleted voice, by id
    assert listed("--voice", "robin") == ["delete", "enrol"]  # ... or by the name it had
    assert listed("--member", str(ALICE)) == ["hide", "rename", "enrol"]
    assert listed("--guild", str(GUILD)) == ["hide", "rename", "enrol", "settings"]
    assert listed("--since", "7d") == ["delete", "hide", "enrol", "rename", "enrol"]
    assert listed("--since", "2020-05-06T07:00") == [*listed("--since", "7d"), "settings"]
    assert listed("--since", "2999-01-01") == []
    assert listed("--member", str(BOB), "--guild", str(GUILD)) == []
    assert listed("--limit", "2") == ["delete", "hide"]

    [entry] = json.loads(cli("audit", "--voice", "Wren", "--limit", "1", "--json").stdout)
    assert entry == {
        "id": entry["id"],
        "at": entry["at"],
        "actor_kind": "member",
        "actor_id": MODERATOR,
        "action": "hide",
        "voice_id": alice.id,
        "voice_name": "Wren",
        "voice_owner_id": ALICE,
        "guild_id": GUILD,
        "detail": None,
    }
    assert "No audit entries match." in cli("audit", "--since", "2999-01-01").stdout


def test_audit_refusals_are_one_line(cli: Callable[..., Result], data_dir: Path) -> None:
    in_store(data_dir, seed_trail)
    bad = one_error_line(cli("audit", "--since", "last tuesday"))
    assert "--since 'last tuesday' is not a time" in bad and "7d" in bad
    assert "no voice named or with id 'nobody'" in one_error_line(cli("audit", "--voice", "nobody"))
    assert cli("audit", "--limit", "0").exit_code == 2  # typer's own range check


# the CLI commands that write entries --------------------------------------------------------
QUALITY = QualityReport(4.0, 3.5, -1.0, -20.0, 0.0, 30.0, "good")


class StandInEngine:
    """What the CLI asks of the engine to enrol or check a singing model, without a model."""

    async def prepare_sample(self, path: Path, dest: Path, limits: object) -> PreparedSample:
        dest.parent.mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()
        dest.write_bytes(data)
        return PreparedSample(dest, 4.0, 24_000, hashlib.sha256(data).hexdigest(), QUALITY)

    async def build_profile(self, folder: Path, samples: list[Any]) -> VoiceProfile:
        conditionals = folder / "conds-stand-in.pt"
        conditionals.write_bytes(b"conditionals")
        return VoiceProfile(folder, "stand-in", conditionals, folder / "reference.wav", 4.0)

    async def describe_singing_model(self, model: Path, index: Path | None) -> str:
        return "a stand-in RVC model"

    async def shutdown(self) -> None:
        pass


@pytest.fixture
def stand_in_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (bot.cli.voices, bot.cli.covers):
        monkeypatch.setattr(module, "build_engine", lambda settings: StandInEngine())


async def samples_and_trail(store: Store) -> tuple[list[VoiceSample], list[AuditEntry]]:
    [voice] = await store.voices.list()
    return await store.voices.samples(voice.id), await store.audit.entries()


@pytest.mark.usefixtures("stand_in_engine")
def test_enroll_needs_consent_and_records_it(
    cli: Callable[..., Result], data_dir: Path, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.wav"
    clip.write_bytes(fake_wav())

    refused = cli("voices", "enroll", "Finch", str(clip), "--owner", str(ALICE))
    assert "needs --consent" in one_error_line(refused)
    assert not (data_dir / "parrot.db").exists()  # refused before anything was opened

    enrolled = cli("voices", "enroll", "Finch", str(clip), "--owner", str(ALICE), "--consent")
    assert enrolled.exit_code == 0, enrolled.output
    [voice] = in_store(data_dir, lambda store: store.voices.list())
    assert voice.consent_via is ConsentPath.CLI and voice.consent_at
    samples, trail = in_store(data_dir, samples_and_trail)
    assert [sample.consent for sample in samples] == [voice.consent]
    [entry] = trail
    assert entry.action is AuditAction.ENROL and entry.who == Who.cli()
    assert (entry.voice_id, entry.voice_owner_id) == (voice.id, ALICE)

    shown = cli("voices", "show", "Finch").stdout
    assert f"consent: {voice.consent_at[:10]} via the parrot CLI (--consent)" in shown
    assert "enrol" in cli("audit", "--voice", "Finch").stdout


@pytest.mark.usefixtures("stand_in_engine")
def test_cli_changes_are_audited(
    cli: Callable[..., Result], data_dir: Path, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.wav"
    clip.write_bytes(fake_wav())
    assert cli("voices", "enroll", "Lark", str(clip), "--consent").exit_code == 0
    model = tmp_path / "lark.pth"
    model.write_bytes(b"not really a model")
    attached = cli("voices", "singing-model", "Lark", str(model))
    assert attached.exit_code == 0, attached.output
    assert cli("voices", "singing-model", "Lark", "--remove").exit_code == 0
    archive = tmp_path / "lark.zip"
    assert cli("voices", "export", "Lark", "-o", str(archive)).exit_code == 0
    imported = cli("voices", "import", str(archive), "--name", "Lark Copy")
    assert imported.exit_code == 0, imported.output
    assert cli("voices", "delete", "Lark", "--yes").exit_code == 0

    trail = json.loads(cli("audit", "--json").stdout)
    assert [(e["action"], e["actor_kind"]) for e in trail] == [
        ("delete", "cli"),
        ("import", "cli"),
        ("remove-singing-model", "cli"),
        ("attach-singing-model", "cli"),
        ("enrol", "cli"),
    ]
    assert trail[3]["detail"] == {"index": False, "model": "a stand-in RVC model"}
    assert trail[1]["voice_name"] == "Lark Copy" and trail[1]["detail"]["samples"] == 1
    assert trail[0]["voice_id"] == trail[-1]["voice_id"] != trail[1]["voice_id"]


# voice archives carry consent ---------------------------------------------------------------
async def test_archives_carry_consent_per_voice_and_sample(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with await Store.open(data_dir / "parrot.db") as store:
        library = VoiceLibrary(store, data_dir)
        archives = VoiceArchive(store, library)
        enrolled = Consent("2026-03-04T05:06:07+00:00", ConsentPath.DISCORD)
        later = Consent("2026-04-05T06:07:08+00:00", ConsentPath.DISCORD)
        voice = await store.voices.create(
            name="Heron", owner_id=ALICE, guild_id=GUILD, consent=enrolled
        )
        for index, consent in enumerate((enrolled, later)):
            path = library.folder(voice.id) / "samples" / f"s{index}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            data = fake_wav(seed=index)
            path.write_bytes(data)
            await store.voices.add_sample(
                voice_id=voice.id,
                path=library.relative(path),
                original_name=None,
                sha256=hashlib.sha256(data).hexdigest(),
                duration_s=0.05,
                sample_rate=8000,
                consent=consent,
            )
        archive = await archives.export(voice, tmp_path / "heron.zip")
        with zipfile.ZipFile(archive) as opened:
            manifest = json.loads(opened.read(MANIFEST_NAME))
        assert manifest["voice"]["consent_via"] == "discord"
        assert sorted((s["consent_at"], s["consent_via"]) for s in manifest["samples"]) == [
            (enrolled.at, "discord"),
            (later.at, "discord"),
        ]

        copy = await archives.import_archive(archive, name="Heron Copy", who=Who.member(ALICE))
        assert copy.consent == enrolled
        copied = [s.consent for s in await store.voices.samples(copy.id)]
        assert sorted(copied, key=str) == [enrolled, later]  # same-millisecond rows: any order
        [entry] = await store.audit.entries(voice_id=copy.id)
        assert entry.action is AuditAction.IMPORT and entry.who == Who.member(ALICE)

        # an archive from before consent paths: the time it has, ``import`` as the path
        del manifest["voice"]["consent_via"]
        for sample in manifest["samples"]:
            del sample["consent_at"], sample["consent_via"]
        older = tmp_path / "older.zip"
        with zipfile.ZipFile(archive) as source, zipfile.ZipFile(older, "w") as target:
            for item in source.infolist():
                if item.filename != MANIFEST_NAME:
                    target.writestr(item, source.read(item))
            target.writestr(MANIFEST_NAME, json.dumps(manifest))
        old = await archives.import_archive(older, name="Heron Old")
        assert old.consent == Consent(enrolled.at, ConsentPath.IMPORT)
        assert {s.consent for s in await store.voices.samples(old.id)} == {old.consent}
        [entry] = await store.audit.entries(voice_id=old.id)
        assert entry.who.kind is ActorKind.CLI
