"""The ``parrot`` admin CLI, driven through Typer's test runner against a temporary data dir."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import bot
import bot.health
from bot.cli import common
from bot.cli.app import app
from bot.store import Store
from bot.store.migrations import latest_version
from bot.store.models import Voice
from bot.store.voices import new_id

COMMANDS: list[list[str]] = [
    [],
    ["db"],
    ["db", "migrate"],
    ["db", "status"],
    ["db", "check"],
    ["voices"],
    ["voices", "list"],
    ["voices", "show"],
    ["voices", "delete"],
    ["voices", "export"],
    ["voices", "import"],
    ["voices", "enroll"],
    ["audit"],
    ["run"],
    ["sync"],
    ["doctor"],
]

DOCTOR_CHECKS = ("ffmpeg", "libopus", "PyNaCl", "davey", "torch", "tts weights", "database", "disk")


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables are drawn at a fixed, generous width so that ids and names are never cut."""
    monkeypatch.setattr(common.console, "_width", 250)
    monkeypatch.setattr(common.error_console, "_width", 250)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cli(data_dir: Path) -> Callable[..., Result]:
    runner = CliRunner(env={"PARROT_DATA": str(data_dir)})

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env=env)

    return invoke


def one_error_line(result: Result) -> str:
    """The single ``parrot: ...`` line a failed command writes to stderr."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("parrot: "), lines[0]
    assert "Traceback" not in result.output
    return lines[0]


async def _add_voice(data_dir: Path, name: str, owner_id: int | None, samples: int) -> Voice:
    async with await Store.open(data_dir / "parrot.db") as store:
        voice = await store.voices.create(name=name, owner_id=owner_id, guild_id=42)
        for index in range(samples):
            sample_id = new_id()
            relative = f"voices/{voice.id}/samples/{sample_id}.wav"
            data = f"RIFF fake audio {index} of {name}".encode()
            path = data_dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            await store.voices.add_sample(
                voice_id=voice.id,
                path=relative,
                original_name=f"clip{index}.ogg",
                sha256=hashlib.sha256(data).hexdigest(),
                duration_s=2.5,
                sample_rate=16000,
                sample_id=sample_id,
            )
        return voice


def add_voice(data_dir: Path, name: str, owner_id: int | None = 7, samples: int = 2) -> Voice:
    return asyncio.run(_add_voice(data_dir, name, owner_id, samples))


async def _voices(data_dir: Path) -> list[Voice]:
    async with await Store.open(data_dir / "parrot.db") as store:
        return await store.voices.list()


def voices_in(data_dir: Path) -> list[Voice]:
    return asyncio.run(_voices(data_dir))


# help and version ---------------------------------------------------------------------------
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_help(cli: Callable[..., Result], command: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert "Traceback" not in result.output


def test_root_help_lists_every_command(cli: Callable[..., Result]) -> None:
    output = cli("-h").output
    for name in ("run", "sync", "doctor", "db", "voices", "audit", "purge"):
        assert name in output


def test_group_help_lists_subcommands(cli: Callable[..., Result]) -> None:
    db_help = cli("db", "--help").output
    for name in ("migrate", "status", "check"):
        assert name in db_help
    voices_help = cli("voices", "--help").output
    for name in ("list", "show", "delete", "export", "import"):
        assert name in voices_help


def test_version(cli: Callable[..., Result], data_dir: Path) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"parrot {bot.__version__}"
    assert not data_dir.exists()


def test_help_needs_no_valid_settings(cli: Callable[..., Result]) -> None:
    result = cli("db", "status", "--help", env={"PARROT_DEVICE": "gpu"})
    assert result.exit_code == 0


# db -------------------------------------------------------------------------------------------
def test_db_status_without_a_database(cli: Callable[..., Result], data_dir: Path) -> None:
    result = cli("db", "status")
    assert result.exit_code == 0, result.output
    assert "No database yet" in result.stdout
    assert f"schema {latest_version()}" in result.stdout
    assert not (data_dir / "parrot.db").exists()  # looking does not create it


def test_db_migrate_then_status(cli: Callable[..., Result], data_dir: Path) -> None:
    result = cli("db", "migrate")
    assert result.exit_code == 0, result.output
    assert f"from version 0 to {latest_version()}" in result.stdout
    assert (data_dir / "parrot.db").exists()

    again = cli("db", "migrate")
    assert again.exit_code == 0
    assert f"up to date at schema version {latest_version()}" in again.stdout

    add_voice(data_dir, "Alice")
    status = cli("db", "status")
    assert status.exit_code == 0, status.output
    assert f"Schema version: {latest_version()} (this Parrot: {latest_version()})" in status.stdout
    assert "Pending" not in status.stdout
    assert "voices: 1" in status.stdout
    assert "voice_samples: 2" in status.stdout
    assert "jobs: 0" in status.stdout
    assert "audit_log: 0" in status.stdout and "voice_hides: 0" in status.stdout


def test_db_status_reports_pending_migrations(cli: Callable[..., Result], data_dir: Path) -> None:
    asyncio.run(_open_unmigrated(data_dir))
    result = cli("db", "status")
    assert result.exit_code == 0, result.output
    assert f"Schema version: 0 (this Parrot: {latest_version()})" in result.stdout
    assert "parrot db migrate" in result.stdout


async def _open_unmigrated(data_dir: Path) -> None:
    async with await Store.open(data_dir / "parrot.db", migrate=False):
        pass


def test_db_check(cli: Callable[..., Result], data_dir: Path) -> None:
    assert "no database at" in one_error_line(cli("db", "check"))
    assert not (data_dir / "parrot.db").exists()

    assert cli("db", "migrate").exit_code == 0
    result = cli("db", "check")
    assert result.exit_code == 0, result.output
    assert "Integrity check passed." in result.stdout


def test_data_option_overrides_the_environment(cli: Callable[..., Result], tmp_path: Path) -> None:
    other = tmp_path / "other"
    result = cli("--data", str(other), "db", "migrate")
    assert result.exit_code == 0, result.output
    assert (other / "parrot.db").exists()
    assert not (tmp_path / "data").exists()


def test_database_from_the_future_is_one_line(cli: Callable[..., Result], data_dir: Path) -> None:
    assert cli("db", "migrate").exit_code == 0
    asyncio.run(_set_user_version(data_dir / "parrot.db", latest_version() + 5))
    for command in (["db", "migrate"], ["db", "status"], ["voices", "list"]):
        line = one_error_line(cli(*command))
        assert "upgrade Parrot" in line


async def _set_user_version(path: Path, version: int) -> None:
    async with await Store.open(path) as store:
        await store.db._connection.execute(f"PRAGMA user_version = {version}")


# voices ---------------------------------------------------------------------------------------
def test_voices_list_empty(cli: Callable[..., Result]) -> None:
    result = cli("voices", "list")
    assert result.exit_code == 0, result.output
    assert "No voices yet." in result.stdout


def test_voices_list(cli: Callable[..., Result], data_dir: Path) -> None:
    alice = add_voice(data_dir, "Alice", owner_id=7, samples=2)
    bob = add_voice(data_dir, "Bob", owner_id=8, samples=0)
    result = cli("voices", "list")
    assert result.exit_code == 0, result.output
    for voice in (alice, bob):
        assert voice.id in result.stdout
        assert voice.name in result.stdout
    assert "pending" in result.stdout

    only_bob = cli("voices", "list", "--owner", "8")
    assert bob.id in only_bob.stdout
    assert alice.id not in only_bob.stdout
    assert "No voices yet." in cli("voices", "list", "--guild", "1").stdout


def test_voices_show(cli: Callable[..., Result], data_dir: Path) -> None:
    voice = add_voice(data_dir, "Alice")
    for reference in (voice.id, "alice"):
        result = cli("voices", "show", reference)
        assert result.exit_code == 0, result.output
        assert voice.id in result.stdout
        assert "Alice" in result.stdout
        assert "samples: 2 (5.0 s)" in result.stdout
        assert "clip0.ogg" in result.stdout and "clip1.ogg" in result.stdout


def test_voices_show_ambiguous_name(cli: Callable[..., Result], data_dir: Path) -> None:
    first = add_voice(data_dir, "Same", owner_id=1, samples=0)
    second = add_voice(data_dir, "same", owner_id=2, samples=0)
    line = one_error_line(cli("voices", "show", "SAME"))
    assert "2 voices are named" in line
    assert first.id in line and second.id in line


@pytest.mark.parametrize("command", ["show", "delete", "export"])
def test_unknown_voice_is_one_line(cli: Callable[..., Result], command: str) -> None:
    line = one_error_line(cli("voices", command, "nobody"))
    assert line.startswith("parrot: no voice named")
    assert "'nobody'" in line


def test_voices_delete_with_yes(cli: Callable[..., Result], data_dir: Path) -> None:
    doomed = add_voice(data_dir, "Doomed")
    kept = add_voice(data_dir, "Kept")
    assert (data_dir / "voices" / doomed.id).is_dir()

    result = cli("voices", "delete", "doomed", "--yes")
    assert result.exit_code == 0, result.output
    assert f"Deleted voice 'Doomed' ({doomed.id})" in result.stdout
    assert not (data_dir / "voices" / doomed.id).exists()
    assert (data_dir / "voices" / kept.id).is_dir()
    assert [v.id for v in voices_in(data_dir)] == [kept.id]


def test_voices_delete_confirmed_at_the_prompt(cli: Callable[..., Result], data_dir: Path) -> None:
    voice = add_voice(data_dir, "Doomed")
    result = cli("voices", "delete", voice.id, input="y\n")
    assert result.exit_code == 0, result.output
    assert "Delete voice 'Doomed'" in result.output
    assert voices_in(data_dir) == []
    assert not (data_dir / "voices" / voice.id).exists()


def test_voices_delete_declined_at_the_prompt(cli: Callable[..., Result], data_dir: Path) -> None:
    voice = add_voice(data_dir, "Keeper")
    result = cli("voices", "delete", "Keeper", input="n\n")
    assert result.exit_code == 1
    assert "Nothing deleted." in result.stdout
    assert [v.id for v in voices_in(data_dir)] == [voice.id]
    assert len(list((data_dir / "voices" / voice.id / "samples").iterdir())) == 2


def test_voices_export_and_import(cli: Callable[..., Result], data_dir: Path) -> None:
    original = add_voice(data_dir, "Alice")
    exported = cli("voices", "export", "Alice", "-o", "x.zip")
    assert exported.exit_code == 0, exported.output
    assert Path("x.zip").is_file()  # relative to the working directory
    assert "Exported 'Alice' to x.zip." in exported.stdout

    imported = cli("voices", "import", "x.zip", "--name", "copy")
    assert imported.exit_code == 0, imported.output
    assert "Imported 'copy' as" in imported.stdout
    assert "(pending)" in imported.stdout

    voices = {v.name: v for v in voices_in(data_dir)}
    assert set(voices) == {"Alice", "copy"}
    copy = voices["copy"]
    assert copy.id != original.id
    assert copy.owner_id == original.owner_id
    assert len(list((data_dir / "voices" / copy.id / "samples").iterdir())) == 2

    # Importing again under the same owner and name is a one-line refusal.
    line = one_error_line(cli("voices", "import", "x.zip", "--name", "Copy"))
    assert "already exists" in line
    # ... but another owner may have it.
    assert cli("voices", "import", "x.zip", "--name", "copy", "--owner", "99").exit_code == 0


def test_voices_export_default_name(cli: Callable[..., Result], data_dir: Path) -> None:
    voice = add_voice(data_dir, "Alice")
    result = cli("voices", "export", voice.id)
    assert result.exit_code == 0, result.output
    assert Path(f"parrot-voice-{voice.id}.zip").is_file()


def test_voices_import_failures_are_one_line(
    cli: Callable[..., Result], data_dir: Path, tmp_path: Path
) -> None:
    assert "does not exist" in one_error_line(cli("voices", "import", "missing.zip"))

    not_a_zip = tmp_path / "bad.zip"
    not_a_zip.write_bytes(b"nope")
    assert "not a zip" in one_error_line(cli("voices", "import", str(not_a_zip)))

    add_voice(data_dir, "Alice")
    assert cli("voices", "export", "Alice", "-o", "a.zip").exit_code == 0
    assert "voice names are" in one_error_line(
        cli("voices", "import", "a.zip", "--name", "bad/name")
    )
    assert [v.name for v in voices_in(data_dir)] == ["Alice"]


# settings and tokens ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command", [["db", "status"], ["voices", "list"], ["doctor"], ["run"], ["sync"]]
)
def test_invalid_setting_is_one_line(cli: Callable[..., Result], command: list[str]) -> None:
    line = one_error_line(cli(*command, env={"PARROT_DEVICE": "gpu"}))
    assert "PARROT_DEVICE='gpu'" in line


@pytest.mark.parametrize("command", [["run"], ["sync"], ["sync", "--guild", "123"]])
def test_commands_that_log_in_need_a_token(cli: Callable[..., Result], command: list[str]) -> None:
    line = one_error_line(cli(*command))
    assert "DISCORD_TOKEN" in line
    assert ".env" in line


# doctor ----------------------------------------------------------------------------------------
def test_doctor_on_a_new_data_dir(cli: Callable[..., Result], data_dir: Path) -> None:
    result = cli("doctor")
    assert result.exit_code == 0, result.output
    for name in DOCTOR_CHECKS:
        assert name in result.stdout, name
    assert "FAIL" not in result.stdout
    assert "will be created on first start" in result.stdout
    assert not (data_dir / "parrot.db").exists()


def test_doctor_reports_the_database(cli: Callable[..., Result]) -> None:
    assert cli("db", "migrate").exit_code == 0
    result = cli("doctor")
    assert result.exit_code == 0, result.output
    assert f"schema {latest_version()}, integrity ok" in result.stdout


def test_doctor_fails_without_ffmpeg(
    cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_which = shutil.which

    def which(name: str, *args: object, **kwargs: object) -> str | None:
        return None if name == "ffmpeg" else real_which(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bot.health.shutil, "which", which)
    result = cli("doctor")
    line = one_error_line(result)
    assert line == "parrot: 1 required check(s) failed: ffmpeg"
    assert "apt-get install ffmpeg" in result.stdout
    for name in DOCTOR_CHECKS:
        assert name in result.stdout, name
