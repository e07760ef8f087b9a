"""One aiosqlite connection with WAL, foreign keys, and serialised transactions."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store import migrations


class Database:
    """The SQLite connection. Use :meth:`open` and always :meth:`close` (or ``async with``).

    aiosqlite runs one thread per connection and an open connection keeps the
    process alive, hence the insistence on closing. A lock serialises writers so
    that two coroutines never interleave statements inside one transaction.
    """

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: Path, *, migrate: bool = True) -> Database:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
        try:
            connection.row_factory = sqlite3.Row
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute("PRAGMA busy_timeout = 5000")
            if migrate:
                await migrations.apply(connection)
            else:
                await migrations.pending(connection)  # still refuse a database that is too new
        except BaseException:
            await connection.close()
            raise
        return cls(connection, path)

    async def close(self) -> None:
        await self._connection.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error."""
        async with self._lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                await self._connection.rollback()
                raise
            else:
                await self._connection.commit()

    async def execute(self, sql: str, parameters: Iterable[Any] = ()) -> int:
        """Run one statement in its own transaction; returns the number of rows changed."""
        async with self.transaction() as connection, connection.execute(sql, parameters) as cursor:
            return cursor.rowcount

    async def fetch_all(self, sql: str, parameters: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._lock, self._connection.execute(sql, parameters) as cursor:
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, parameters: Iterable[Any] = ()) -> sqlite3.Row | None:
        async with self._lock, self._connection.execute(sql, parameters) as cursor:
            return await cursor.fetchone()

    async def fetch_value(self, sql: str, parameters: Iterable[Any] = ()) -> Any:
        row = await self.fetch_one(sql, parameters)
        return None if row is None else row[0]

    async def schema_version(self) -> int:
        return await migrations.current_version(self._connection)

    async def integrity_check(self) -> list[str]:
        """SQLite's integrity and foreign-key checks; an empty list means healthy."""
        problems = []
        rows = await self.fetch_all("PRAGMA integrity_check")
        problems += [str(row[0]) for row in rows if str(row[0]) != "ok"]
        for row in await self.fetch_all("PRAGMA foreign_key_check"):
            problems.append(f"foreign key violation in {row[0]} row {row[1]} → {row[2]}")
        return problems
