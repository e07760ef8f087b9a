"""Schema migrations: fresh databases, upgrades, failed migrations, and refusing the future."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from bot.store import Store, migrations
from bot.store.migrations import (
    MIGRATIONS_DIR,
    DatabaseTooNewError,
    MigrationError,
    apply,
    current_version,
    discover,
    latest_version,
    pending,
)

TABLES = {"voices", "voice_samples", "guild_settings", "member_settings", "jobs", "generations"}

V1 = "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
V2 = "ALTER TABLE things ADD COLUMN colour TEXT NOT NULL DEFAULT 'green';\n"


@contextlib.asynccontextmanager
async def connect(path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await aiosqlite.connect(path, isolation_level=None)
    try:
        yield connection
    finally:
        await connection.close()


def write_migrations(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql, encoding="utf-8")
    return directory


async def columns(connection: aiosqlite.Connection, table: str) -> list[str]:
    async with connection.execute(f"PRAGMA table_info({table})") as cursor:
        return [row[1] for row in await cursor.fetchall()]


async def set_user_version(path: Path, version: int) -> None:
    async with connect(path) as connection:
        await connection.execute(f"PRAGMA user_version = {version}")


# the real migrations -------------------------------------------------------------------
def test_shipped_migrations_are_well_formed() -> None:
    found = discover()
    assert found, "no migrations shipped"
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert found[0].name == "0001_init"
    assert latest_version() == found[-1].version
    assert MIGRATIONS_DIR.is_dir()


async def test_fresh_database_gets_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "parrot.db"
    async with await Store.open(path) as store:
        assert path.exists()
        assert await store.db.schema_version() == latest_version()
        rows = await store.db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
        assert {row[0] for row in rows} >= TABLES
        assert str(await store.db.fetch_value("PRAGMA journal_mode")).lower() == "wal"
        assert await store.db.fetch_value("PRAGMA foreign_keys") == 1
        assert await store.db.fetch_value("PRAGMA busy_timeout") == 5000


async def test_reopening_applies_nothing_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "parrot.db"
    async with await Store.open(path) as store:
        await store.voices.create(name="Kept", owner_id=1, guild_id=2)
    async with await Store.open(path) as store:
        assert await store.db.schema_version() == latest_version()
        assert [v.name for v in await store.voices.list()] == ["Kept"]
    async with connect(path) as connection:
        assert await pending(connection) == []
        assert await apply(connection) == []


async def test_open_without_migrate_leaves_a_new_database_at_zero(tmp_path: Path) -> None:
    path = tmp_path / "parrot.db"
    async with await Store.open(path, migrate=False) as store:
        assert await store.db.schema_version() == 0
    async with connect(path) as connection:
        assert [m.version for m in await pending(connection)] == [m.version for m in discover()]


# upgrades -------------------------------------------------------------------------------
async def test_upgrade_path_preserves_data(tmp_path: Path) -> None:
    only_first = write_migrations(tmp_path / "m1", **{"0001_things.sql": V1})
    both = write_migrations(tmp_path / "m2", **{"0001_things.sql": V1, "0002_colour.sql": V2})
    path = tmp_path / "up.db"

    async with connect(path) as connection:
        applied = await apply(connection, only_first)
        assert [m.name for m in applied] == ["0001_things"]
        assert await current_version(connection) == 1
        await connection.execute("INSERT INTO things (name) VALUES ('a'), ('b')")
        assert [m.version for m in await pending(connection, both)] == [2]

    async with connect(path) as connection:
        applied = await apply(connection, both)
        assert [m.version for m in applied] == [2]
        assert await current_version(connection) == 2
        assert "colour" in await columns(connection, "things")
        async with connection.execute("SELECT name, colour FROM things ORDER BY id") as cursor:
            rows = [tuple(row) for row in await cursor.fetchall()]
        assert rows == [("a", "green"), ("b", "green")]
        assert await apply(connection, both) == []


async def test_fresh_database_applies_every_migration_in_order(tmp_path: Path) -> None:
    directory = write_migrations(
        tmp_path / "m", **{"0001_things.sql": V1, "0002_colour.sql": V2, "notes.txt": "ignored"}
    )
    async with connect(tmp_path / "fresh.db") as connection:
        applied = await apply(connection, directory)
        assert [m.version for m in applied] == [1, 2]
        assert await current_version(connection) == 2
        assert not connection.in_transaction


async def test_failing_migration_rolls_back_completely(tmp_path: Path) -> None:
    bad = (
        "ALTER TABLE things ADD COLUMN colour TEXT;\n"
        "CREATE TABLE extra (id INTEGER);\n"
        "INSERT INTO no_such_table VALUES (1);\n"
    )
    first = write_migrations(tmp_path / "m1", **{"0001_things.sql": V1})
    broken = write_migrations(tmp_path / "m2", **{"0001_things.sql": V1, "0002_broken.sql": bad})
    path = tmp_path / "broken.db"
    async with connect(path) as connection:
        await apply(connection, first)
        await connection.execute("INSERT INTO things (name) VALUES ('survivor')")

        with pytest.raises(MigrationError) as raised:
            await apply(connection, broken)
        assert "0002_broken" in str(raised.value)
        assert not isinstance(raised.value, DatabaseTooNewError)

        assert not connection.in_transaction
        assert await current_version(connection) == 1
        assert await columns(connection, "things") == ["id", "name"]
        async with connection.execute(
            "SELECT name FROM sqlite_master WHERE name = 'extra'"
        ) as cursor:
            assert await cursor.fetchone() is None
        async with connection.execute("SELECT name FROM things") as cursor:
            assert [row[0] for row in await cursor.fetchall()] == ["survivor"]

    # After a fix the migration applies cleanly.
    fixed = write_migrations(tmp_path / "m3", **{"0001_things.sql": V1, "0002_colour.sql": V2})
    async with connect(path) as connection:
        assert [m.version for m in await apply(connection, fixed)] == [2]


async def test_syntax_error_in_a_migration_is_a_migration_error(tmp_path: Path) -> None:
    directory = write_migrations(
        tmp_path / "m", **{"0001_things.sql": V1, "0002_typo.sql": "CREAT TABLE oops (id);"}
    )
    async with connect(tmp_path / "typo.db") as connection:
        with pytest.raises(MigrationError, match="0002_typo"):
            await apply(connection, directory)
        # 0001 was committed on its own before 0002 failed.
        assert await current_version(connection) == 1
        assert "things" in {
            row[0]
            for row in await (
                await connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ).fetchall()
        }


# the future -------------------------------------------------------------------------------
async def test_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", **{"0001_things.sql": V1})
    path = tmp_path / "future.db"
    await set_user_version(path, 7)
    async with connect(path) as connection:
        with pytest.raises(DatabaseTooNewError, match="7"):
            await pending(connection, directory)
        with pytest.raises(DatabaseTooNewError):
            await apply(connection, directory)
        assert await current_version(connection) == 7


@pytest.mark.parametrize("migrate", [True, False])
async def test_store_open_refuses_a_database_from_the_future(tmp_path: Path, migrate: bool) -> None:
    path = tmp_path / "future.db"
    await set_user_version(path, latest_version() + 1)
    with pytest.raises(DatabaseTooNewError) as raised:
        await Store.open(path, migrate=migrate)
    assert isinstance(raised.value, MigrationError)
    assert "upgrade Parrot" in str(raised.value)
    async with connect(path) as connection:
        assert await current_version(connection) == latest_version() + 1


# discovery --------------------------------------------------------------------------------
def test_discover_sorts_and_ignores_other_files(tmp_path: Path) -> None:
    directory = write_migrations(
        tmp_path / "m",
        **{
            "0002_second.sql": V2,
            "0001_first.sql": V1,
            "README.md": "not a migration",
        },
    )
    found = discover(directory)
    assert [(m.version, m.name) for m in found] == [(1, "0001_first"), (2, "0002_second")]
    assert latest_version(directory) == 2


def test_empty_directory_has_no_migrations(tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "empty")
    assert discover(directory) == []
    assert latest_version(directory) == 0


@pytest.mark.parametrize(
    "bad_name", ["1_init.sql", "0001-init.sql", "0001_Init.sql", "init.sql", "0001_.sql"]
)
def test_badly_named_migration_files_are_refused(tmp_path: Path, bad_name: str) -> None:
    directory = write_migrations(tmp_path / "m", **{"0001_first.sql": V1, bad_name: V2})
    with pytest.raises(MigrationError, match="not named"):
        discover(directory)


@pytest.mark.parametrize(
    "names",
    [
        ["0001_first.sql", "0003_third.sql"],
        ["0002_second.sql"],
        ["0001_first.sql", "0001_again.sql"],
    ],
)
def test_gaps_and_duplicates_are_refused(tmp_path: Path, names: list[str]) -> None:
    directory = write_migrations(tmp_path / "m", **dict.fromkeys(names, V1))
    with pytest.raises(MigrationError, match="without gaps"):
        discover(directory)


async def test_bad_migration_directory_stops_apply(tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "m", **{"0001_first.sql": V1, "0003_x.sql": V2})
    async with connect(tmp_path / "x.db") as connection:
        with pytest.raises(MigrationError):
            await apply(connection, directory)
        assert await current_version(connection) == 0


def test_migration_name_is_the_stem() -> None:
    migration = migrations.Migration(3, Path("/x/0003_add_things.sql"))
    assert migration.name == "0003_add_things"
