"""``parrot stats`` and ``parrot purge`` through Typer's runner on a seeded data dir."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import common
from bot.cli.app import app
from bot.store import Store
from tests.personal_data import Seeded, files_mentioning, rows_mentioning, seed_member

MEMBER, OTHER, GUILD, OTHER_GUILD = 1001, 2002, 77, 88


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cli(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.setattr(common.console, "_width", 250)
    monkeypatch.setattr(common.error_console, "_width", 250)
    runner = CliRunner(env={"PARROT_DATA": str(data_dir)})

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env=env)

    return invoke


@pytest.fixture
def seeded(data_dir: Path) -> list[Seeded]:
    async def seed() -> list[Seeded]:
        async with await Store.open(data_dir / "parrot.db") as store:
            people = [
                await seed_member(store, data_dir, MEMBER, GUILD, "alpha", generations=3),
                await seed_member(store, data_dir, OTHER, GUILD, "beta", generations=1),
                await seed_member(store, data_dir, MEMBER, OTHER_GUILD, "gamma", generations=2),
            ]
            await store.generations.record(  # `parrot say`: no member, no server
                kind="speech", user_id=None, guild_id=None, voice_id=None, characters=7
            )
            return people

    return asyncio.run(seed())


def test_stats_tables(cli: Callable[..., Result], seeded: list[Seeded]) -> None:
    result = cli("stats")
    assert result.exit_code == 0, result.output
    assert "Usage in all servers: 7 generation(s)" in result.stdout
    assert "2 cover(s)" in result.stdout  # seeded covers: alpha 1, gamma 1
    for expected in ("By voice", "By member", "alphavoice", "betavoice", "(deleted voice)"):
        assert expected in result.stdout
    assert "(admin CLI)" in result.stdout and str(MEMBER) in result.stdout

    one = cli("stats", "--guild", str(GUILD))
    assert "Usage in server 77: 4 generation(s)" in one.stdout
    assert "gammavoice" not in one.stdout


def test_stats_json(cli: Callable[..., Result], seeded: list[Seeded]) -> None:
    result = cli("stats", "--guild", str(GUILD), "--json")
    assert result.exit_code == 0, result.output
    usage = json.loads(result.stdout)
    assert usage["guild_id"] == GUILD and usage["totals"]["uses"] == 4
    assert usage["totals"]["covers"] == 1 and usage["totals"]["input_seconds"] == 30.0
    by_voice = {line["label"]: line for line in usage["by_voice"]}
    assert by_voice["alphavoice"]["uses"] == 3 and by_voice["alphavoice"]["characters"] == 80
    assert [line["key"] for line in usage["by_member"]] == [MEMBER, OTHER]


def test_stats_since(cli: Callable[..., Result], seeded: list[Seeded]) -> None:
    future = json.loads(cli("stats", "--since", "2999-01-01", "--json").stdout)
    assert future["totals"]["uses"] == 0 and future["since"].startswith("2999-01-01T00:00")
    past = json.loads(cli("stats", "--since", "2000-01-01T12:30", "--json").stdout)
    assert past["totals"]["uses"] == 7
    bad = cli("stats", "--since", "last tuesday")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("parrot: --since 'last tuesday' is not a date")


def test_stats_on_an_empty_database(cli: Callable[..., Result]) -> None:
    result = cli("stats")
    assert result.exit_code == 0, result.output
    assert "0 generation(s)" in result.stdout and "By voice" not in result.stdout


def test_purge_member(cli: Callable[..., Result], seeded: list[Seeded], data_dir: Path) -> None:
    declined = cli("purge", "--member", str(MEMBER), input="n\n")
    assert declined.exit_code == 1 and "Nothing deleted" in declined.stdout
    assert all(path.exists() for path in seeded[0].files)

    result = cli("purge", "--member", str(MEMBER), input="y\n")
    assert result.exit_code == 0, result.output
    assert f"Purged user {MEMBER}: 2 voice(s), 5 history row(s), 2 job(s)" in result.stdout
    needles = ["alpha", "gamma", *seeded[0].voice_ids, *seeded[2].voice_ids]
    assert files_mentioning(data_dir, needles) == []
    assert rows_mentioning(data_dir / "parrot.db", {MEMBER, *needles}) == []
    assert all(path.exists() for path in seeded[1].files)


def test_purge_guild(cli: Callable[..., Result], seeded: list[Seeded], data_dir: Path) -> None:
    result = cli("purge", "--guild", str(GUILD), "--yes")
    assert result.exit_code == 0, result.output
    assert f"Purged server {GUILD}: 2 voice(s), 4 history row(s)" in result.stdout
    assert rows_mentioning(data_dir / "parrot.db", {GUILD}) == []
    assert all(path.exists() for path in seeded[2].files)


def test_purge_expired(cli: Callable[..., Result], seeded: list[Seeded]) -> None:
    off = cli("purge", "--expired", "--yes")
    assert off.exit_code == 1 and "PARROT_RETENTION_DAYS=0" in off.stderr
    kept = cli("purge", "--expired", "--yes", env={"PARROT_RETENTION_DAYS": "30"})
    assert kept.exit_code == 0, kept.output
    assert "Removed 0 generated audio file(s)" in kept.stdout
    assert cli("purge", "--expired", "--days", "1", "--yes").exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give exactly one of"),
        (["--member", "1", "--guild", "2"], "give exactly one of"),
        (["--member", "1", "--days", "3"], "--days only goes with --expired"),
    ],
)
def test_purge_needs_one_target(cli: Callable[..., Result], args: list[str], message: str) -> None:
    result = cli("purge", *args, "--yes")
    assert result.exit_code == 1
    assert message in result.stderr
