"""SQL for preset voices: which reference became which voice, from which inputs."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from bot.store.database import Statements

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


class PresetStatus(StrEnum):
    READY = "ready"
    FAILED = "failed"
    """The last import of this reference failed; ``error`` says why."""
    RETIRED = "retired"
    """The reference was removed from the folder; its voice is retired."""


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    source: str
    voice_id: str | None
    sha256: str
    status: PresetStatus
    error: str | None
    updated_at: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Preset:
        return cls(
            name=row["name"],
            source=row["source"],
            voice_id=row["voice_id"],
            sha256=row["sha256"],
            status=PresetStatus(row["status"]),
            error=row["error"],
            updated_at=row["updated_at"],
        )


class PresetRepository:
    def __init__(self, statements: Statements) -> None:
        self._sql = statements

    async def all(self) -> list[Preset]:
        rows = await self._sql.fetch_all("SELECT * FROM presets ORDER BY name COLLATE NOCASE")
        return [Preset.from_row(row) for row in rows]

    async def get(self, name: str) -> Preset | None:
        row = await self._sql.fetch_one("SELECT * FROM presets WHERE name = ?", (name,))
        return None if row is None else Preset.from_row(row)

    async def failed(self) -> list[Preset]:
        rows = await self._sql.fetch_all(
            "SELECT * FROM presets WHERE status = ? ORDER BY name COLLATE NOCASE",
            (PresetStatus.FAILED,),
        )
        return [Preset.from_row(row) for row in rows]

    async def save(
        self,
        *,
        name: str,
        source: str,
        voice_id: str | None,
        sha256: str,
        status: PresetStatus,
        error: str | None = None,
    ) -> None:
        """Insert or replace the record of one reference."""
        await self._sql.execute(
            "INSERT INTO presets (name, source, voice_id, sha256, status, error)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
            " source = excluded.source, voice_id = excluded.voice_id,"
            " sha256 = excluded.sha256, status = excluded.status, error = excluded.error,"
            f" updated_at = {_NOW}",
            (name, source, voice_id, sha256, status, error),
        )

    async def mark_failed(self, name: str, source: str, sha256: str, error: str) -> None:
        """Record a failure, keeping the voice (if any) that the previous import made."""
        await self._sql.execute(
            "INSERT INTO presets (name, source, sha256, status, error) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET source = excluded.source,"
            " sha256 = excluded.sha256, status = excluded.status, error = excluded.error,"
            f" updated_at = {_NOW}",
            (name, source, sha256, PresetStatus.FAILED, error),
        )

    async def delete(self, name: str) -> None:
        await self._sql.execute("DELETE FROM presets WHERE name = ?", (name,))
