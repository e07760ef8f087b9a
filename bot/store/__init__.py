"""Parrot's SQLite store: one connection, typed repositories on top. All SQL lives here."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from bot.store.database import Database
from bot.store.unit_of_work import Repositories, UnitOfWork


class Store(Repositories):
    """The database and its repositories. Open with :meth:`open`; always close."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.db = database

    @classmethod
    async def open(cls, path: Path, *, migrate: bool = True) -> Store:
        return cls(await Database.open(path, migrate=migrate))

    async def close(self) -> None:
        await self.db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @contextlib.asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """Several repositories' writes in one transaction: all of them, or none::

        async with store.unit_of_work() as work:
            await work.voices.create(...)
            await work.voices.add_sample(...)
        """
        async with self.db.atomic() as transaction:
            yield UnitOfWork(transaction)


__all__ = ["Database", "Store", "UnitOfWork"]
