"""Parrot's SQLite store: one connection, typed repositories on top."""

from __future__ import annotations

from pathlib import Path

from bot.store.database import Database
from bot.store.generations import GenerationRepository
from bot.store.jobs import JobRepository
from bot.store.personal import PersonalDataRepository
from bot.store.presets import PresetRepository
from bot.store.settings import SettingsRepository
from bot.store.voices import VoiceRepository


class Store:
    """The database and its repositories. Open with :meth:`open`; always close."""

    def __init__(self, database: Database) -> None:
        self.db = database
        self.voices = VoiceRepository(database)
        self.jobs = JobRepository(database)
        self.generations = GenerationRepository(database)
        self.settings = SettingsRepository(database)
        self.presets = PresetRepository(database)
        self.personal = PersonalDataRepository(database)

    @classmethod
    async def open(cls, path: Path, *, migrate: bool = True) -> Store:
        return cls(await Database.open(path, migrate=migrate))

    async def close(self) -> None:
        await self.db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


__all__ = ["Database", "Store"]
