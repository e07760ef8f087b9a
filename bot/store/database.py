"""One aiosqlite connection with WAL, foreign keys, and serialised transactions.

Repositories send their SQL to a :class:`Statements`: either the :class:`Database` itself
(each statement its own transaction) or a :class:`Transaction` that is already open, so
that several repositories can write rows together or not at all (see
:meth:`bot.store.Store.unit_of_work`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

from bot.store import migrations

Parameters = Iterable[Any] | Mapping[str, Any]

_OPEN_TRANSACTION: contextvars.ContextVar[Database | None] = contextvars.ContextVar(
    "parrot_open_transaction", default=None
)
"""The database whose transaction the running task holds: its lock is not reentrant."""


class Statements(Protocol):
    """Where a repository runs its SQL."""

    async def execute(self, sql: str, parameters: Parameters = ()) -> int:
        """Run one statement; returns the number of rows changed."""
        ...

    async def insert(self, sql: str, parameters: Parameters = ()) -> int:
        """Run one INSERT; returns the new row's rowid."""
        ...

    async def fetch_all(self, sql: str, parameters: Parameters = ()) -> list[sqlite3.Row]: ...

    async def fetch_one(self, sql: str, parameters: Parameters = ()) -> sqlite3.Row | None: ...

    async def fetch_value(self, sql: str, parameters: Parameters = ()) -> Any: ...

    def atomic(self) -> AbstractAsyncContextManager[Transaction]:
        """Statements that land together or not at all (nested: a savepoint)."""
        ...


class Transaction:
    """Statements inside one open transaction; the database's lock is held meanwhile."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self._savepoints = itertools.count(1)

    async def execute(self, sql: str, parameters: Parameters = ()) -> int:
        async with self._connection.execute(sql, parameters) as cursor:
            return cursor.rowcount

    async def insert(self, sql: str, parameters: Parameters = ()) -> int:
        async with self._connection.execute(sql, parameters) as cursor:
            return int(cursor.lastrowid or 0)

    async def fetch_all(self, sql: str, parameters: Parameters = ()) -> list[sqlite3.Row]:
        async with self._connection.execute(sql, parameters) as cursor:
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, parameters: Parameters = ()) -> sqlite3.Row | None:
        async with self._connection.execute(sql, parameters) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()
            return row

    async def fetch_value(self, sql: str, parameters: Parameters = ()) -> Any:
        row = await self.fetch_one(sql, parameters)
        return None if row is None else row[0]

    @contextlib.asynccontextmanager
    async def atomic(self) -> AsyncIterator[Transaction]:
        """A savepoint: on an error only this block's statements are undone."""
        name = f"parrot_{next(self._savepoints)}"
        await self._connection.execute(f"SAVEPOINT {name}")
        try:
            yield self
        except BaseException:
            await self._connection.execute(f"ROLLBACK TO {name}")
            await self._connection.execute(f"RELEASE {name}")
            raise
        else:
            await self._connection.execute(f"RELEASE {name}")


async def _to_the_end(call: Awaitable[object]) -> None:
    """Await a connection call that aiosqlite runs on its thread whether or not we are
    cancelled: a cancelled task that stopped waiting for ``BEGIN`` used to release the lock
    with the transaction still open, and the next writer failed with "cannot start a
    transaction within a transaction"."""
    task = asyncio.ensure_future(call)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


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

    def _refuse_reentry(self) -> None:
        """Fail loudly instead of waiting forever on our own lock."""
        if _OPEN_TRANSACTION.get() is self:
            raise RuntimeError(
                "this task holds a transaction: use the unit of work's repositories inside it"
            )

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error."""
        self._refuse_reentry()
        async with self._lock:
            token = _OPEN_TRANSACTION.set(self)
            committed = False
            try:
                await _to_the_end(self._connection.execute("BEGIN IMMEDIATE"))
                yield self._connection
                await _to_the_end(self._connection.commit())
                committed = True
            finally:
                try:
                    if not committed:  # a no-op when nothing was begun
                        await _to_the_end(self._connection.rollback())
                finally:
                    _OPEN_TRANSACTION.reset(token)

    @contextlib.asynccontextmanager
    async def atomic(self) -> AsyncIterator[Transaction]:
        """A transaction that repositories can run their statements in."""
        async with self.transaction() as connection:
            yield Transaction(connection)

    async def execute(self, sql: str, parameters: Parameters = ()) -> int:
        """Run one statement in its own transaction; returns the number of rows changed."""
        async with self.atomic() as transaction:
            return await transaction.execute(sql, parameters)

    async def insert(self, sql: str, parameters: Parameters = ()) -> int:
        """Run one INSERT in its own transaction; returns the new row's rowid."""
        async with self.atomic() as transaction:
            return await transaction.insert(sql, parameters)

    async def fetch_all(self, sql: str, parameters: Parameters = ()) -> list[sqlite3.Row]:
        self._refuse_reentry()
        async with self._lock, self._connection.execute(sql, parameters) as cursor:
            return list(await cursor.fetchall())

    async def fetch_one(self, sql: str, parameters: Parameters = ()) -> sqlite3.Row | None:
        self._refuse_reentry()
        async with self._lock, self._connection.execute(sql, parameters) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()
            return row

    async def fetch_value(self, sql: str, parameters: Parameters = ()) -> Any:
        row = await self.fetch_one(sql, parameters)
        return None if row is None else row[0]

    async def schema_version(self) -> int:
        return await migrations.current_version(self._connection)

    async def table_names(self) -> set[str]:
        rows = await self.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(row[0]) for row in rows}

    async def row_counts(self, tables: Iterable[str]) -> dict[str, int]:
        """Rows per table, for those of ``tables`` the database has (it may be behind)."""
        existing = await self.table_names()
        return {
            table: int(await self.fetch_value(f"SELECT COUNT(*) FROM {table}"))
            for table in tables
            if table in existing
        }

    async def integrity_check(self) -> list[str]:
        """SQLite's integrity and foreign-key checks; an empty list means healthy."""
        problems = []
        rows = await self.fetch_all("PRAGMA integrity_check")
        problems += [str(row[0]) for row in rows if str(row[0]) != "ok"]
        for row in await self.fetch_all("PRAGMA foreign_key_check"):
            problems.append(f"foreign key violation in {row[0]} row {row[1]} → {row[2]}")
        return problems
