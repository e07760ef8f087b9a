"""Numbered SQL files in ``migrations/``, applied in order, tracked by ``PRAGMA user_version``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from engine.api import ParrotError

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(ParrotError, RuntimeError):
    """The database cannot be brought to the code's schema."""


class DatabaseTooNewError(MigrationError):
    """The database was written by a newer Parrot; refusing to touch it."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    path: Path

    @property
    def name(self) -> str:
        return self.path.stem


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations in ``directory``, checked to be numbered 1, 2, 3... without gaps."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file {path.name!r} is not named NNNN_name.sql")
        found.append(Migration(int(match.group(1)), path))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migrations must be numbered without gaps: expected {expected:04d}, "
                f"found {migration.path.name}"
            )
    return found


async def current_version(connection: aiosqlite.Connection) -> int:
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


def latest_version(directory: Path = MIGRATIONS_DIR) -> int:
    migrations = discover(directory)
    return migrations[-1].version if migrations else 0


async def pending(
    connection: aiosqlite.Connection, directory: Path = MIGRATIONS_DIR
) -> list[Migration]:
    """Migrations not yet applied; raises if the database is ahead of the code."""
    migrations = discover(directory)
    version = await current_version(connection)
    latest = migrations[-1].version if migrations else 0
    if version > latest:
        raise DatabaseTooNewError(
            f"the database is at schema version {version} but this Parrot only knows up to "
            f"{latest}: upgrade Parrot, or restore a backup made by this version"
        )
    return [m for m in migrations if m.version > version]


async def apply(
    connection: aiosqlite.Connection, directory: Path = MIGRATIONS_DIR
) -> list[Migration]:
    """Apply every pending migration, each in its own transaction. Returns those applied.

    The connection must be in autocommit mode (``isolation_level=None``) so that the
    explicit BEGIN/COMMIT below is the only transaction in play.
    """
    applied = []
    for migration in await pending(connection, directory):
        script = migration.path.read_text(encoding="utf-8")
        try:
            await connection.executescript(
                f"BEGIN IMMEDIATE;\n{script}\n;PRAGMA user_version = {migration.version};\nCOMMIT;"
            )
        except Exception as error:
            if connection.in_transaction:
                await connection.rollback()
            raise MigrationError(f"migration {migration.name} failed: {error}") from error
        applied.append(migration)
    return applied
