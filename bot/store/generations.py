"""SQL for the history of syntheses and covers."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from bot.store.database import Statements


class GenerationRepository:
    def __init__(self, statements: Statements) -> None:
        self._sql = statements

    async def record(
        self,
        *,
        kind: str,
        user_id: int | None,
        guild_id: int | None,
        voice_id: str | None,
        characters: int | None = None,
        input_seconds: float | None = None,
        audio_seconds: float | None = None,
        elapsed_seconds: float | None = None,
        method: str | None = None,
        output_path: str | None = None,
    ) -> int:
        return await self._sql.insert(
            "INSERT INTO generations (kind, user_id, guild_id, voice_id, characters,"
            " input_seconds, audio_seconds, elapsed_seconds, method, output_path)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                kind,
                user_id,
                guild_id,
                voice_id,
                characters,
                input_seconds,
                audio_seconds,
                elapsed_seconds,
                method,
                output_path,
            ),
        )

    async def count(self) -> int:
        return int(await self._sql.fetch_value("SELECT COUNT(*) FROM generations"))

    async def move_to_voice(self, old_voice_id: str, new_voice_id: str) -> None:
        """History made with one voice now points at another (its replacement)."""
        await self._sql.execute(
            "UPDATE generations SET voice_id = ? WHERE voice_id = ?",
            (new_voice_id, old_voice_id),
        )

    # history -----------------------------------------------------------------------------
    async def for_user(
        self,
        user_id: int,
        *,
        guild_id: int | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[Generation]:
        """A member's generations, newest first (in one server, or everywhere)."""
        rows = await self._sql.fetch_all(
            f"{_SELECT} WHERE g.user_id = ? AND (? IS NULL OR g.guild_id = ?)"
            " ORDER BY g.created_at DESC, g.id DESC LIMIT ? OFFSET ?",
            (user_id, guild_id, guild_id, limit, offset),
        )
        return [Generation.from_row(row) for row in rows]

    async def count_for_user(self, user_id: int, *, guild_id: int | None = None) -> int:
        return int(
            await self._sql.fetch_value(
                "SELECT COUNT(*) FROM generations WHERE user_id = ?"
                " AND (? IS NULL OR guild_id = ?)",
                (user_id, guild_id, guild_id),
            )
        )

    # stats -------------------------------------------------------------------------------
    async def usage(self, *, guild_id: int | None = None, since: str | None = None) -> Usage:
        """Totals, and the same per voice and per member, busiest first.

        ``since`` is an ISO-8601 UTC time as stored (``2026-11-01T00:00:00.000Z``).
        """
        where = "WHERE (:guild IS NULL OR g.guild_id = :guild)"
        where += " AND (:since IS NULL OR g.created_at >= :since)"
        parameters = {"guild": guild_id, "since": since}
        totals = await self._sql.fetch_one(f"SELECT {_SUMS} FROM generations g {where}", parameters)
        by_voice = await self._sql.fetch_all(
            f"SELECT g.voice_id AS key, v.name AS label, {_SUMS} FROM generations g"
            f" LEFT JOIN voices v ON v.id = g.voice_id {where}"
            " GROUP BY g.voice_id ORDER BY uses DESC, label COLLATE NOCASE",
            parameters,
        )
        by_member = await self._sql.fetch_all(
            f"SELECT g.user_id AS key, NULL AS label, {_SUMS} FROM generations g {where}"
            " GROUP BY g.user_id ORDER BY uses DESC, key",
            parameters,
        )
        assert totals is not None
        return Usage(
            guild_id=guild_id,
            since=since,
            totals=UsageLine.from_row(totals, None, "all"),
            by_voice=[
                UsageLine.from_row(row, row["key"], row["label"] or "(deleted voice)")
                for row in by_voice
            ],
            by_member=[
                UsageLine.from_row(row, row["key"], _member_label(row["key"])) for row in by_member
            ],
        )


def _member_label(user_id: int | None) -> str:
    return "(admin CLI)" if user_id is None else str(user_id)


_SELECT = (
    "SELECT g.*, v.name AS voice_name FROM generations g LEFT JOIN voices v ON v.id = g.voice_id"
)
_SUMS = (
    "COUNT(*) AS uses,"
    " COALESCE(SUM(g.kind = 'speech'), 0) AS speeches,"
    " COALESCE(SUM(g.kind = 'cover'), 0) AS covers,"
    " COALESCE(SUM(g.characters), 0) AS characters,"
    " COALESCE(SUM(g.input_seconds), 0.0) AS input_seconds,"
    " COALESCE(SUM(g.audio_seconds), 0.0) AS audio_seconds,"
    " COALESCE(SUM(g.elapsed_seconds), 0.0) AS elapsed_seconds"
)


@dataclass(frozen=True, slots=True)
class Generation:
    """One synthesis (``speech``) or cover, as history shows it."""

    id: int
    kind: str
    user_id: int | None
    guild_id: int | None
    voice_id: str | None
    voice_name: str | None
    """None once the voice was deleted."""
    characters: int | None
    input_seconds: float | None
    audio_seconds: float | None
    elapsed_seconds: float | None
    method: str | None
    output_path: str | None
    created_at: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Generation:
        return cls(
            id=int(row["id"]),
            kind=row["kind"],
            user_id=row["user_id"],
            guild_id=row["guild_id"],
            voice_id=row["voice_id"],
            voice_name=row["voice_name"],
            characters=row["characters"],
            input_seconds=row["input_seconds"],
            audio_seconds=row["audio_seconds"],
            elapsed_seconds=row["elapsed_seconds"],
            method=row["method"],
            output_path=row["output_path"],
            created_at=row["created_at"],
        )


@dataclass(frozen=True, slots=True)
class UsageLine:
    """Usage summed over some generations: all of them, one voice's, or one member's."""

    key: str | int | None
    label: str
    uses: int
    speeches: int
    covers: int
    characters: int
    input_seconds: float
    audio_seconds: float
    elapsed_seconds: float

    @classmethod
    def from_row(cls, row: sqlite3.Row, key: str | int | None, label: str) -> UsageLine:
        return cls(
            key=key,
            label=label,
            uses=int(row["uses"]),
            speeches=int(row["speeches"]),
            covers=int(row["covers"]),
            characters=int(row["characters"]),
            input_seconds=float(row["input_seconds"]),
            audio_seconds=float(row["audio_seconds"]),
            elapsed_seconds=float(row["elapsed_seconds"]),
        )

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class Usage:
    guild_id: int | None
    since: str | None
    totals: UsageLine
    by_voice: list[UsageLine]
    by_member: list[UsageLine]

    def as_dict(self) -> dict[str, Any]:
        return {
            "guild_id": self.guild_id,
            "since": self.since,
            "totals": self.totals.as_dict(),
            "by_voice": [line.as_dict() for line in self.by_voice],
            "by_member": [line.as_dict() for line in self.by_member],
        }
