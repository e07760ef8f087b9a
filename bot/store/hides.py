"""SQL for voices a server's moderators hid there: nobody may use them in that server.

A hide is per server and reversible; the row goes with its voice (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.store.database import Statements


@dataclass(frozen=True, slots=True)
class VoiceHide:
    voice_id: str
    guild_id: int
    hidden_by: int | None
    """The moderator (None once their data was purged)."""
    reason: str | None
    created_at: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> VoiceHide:
        return cls(
            voice_id=row["voice_id"],
            guild_id=int(row["guild_id"]),
            hidden_by=row["hidden_by"],
            reason=row["reason"],
            created_at=row["created_at"],
        )


class HideRepository:
    def __init__(self, statements: Statements) -> None:
        self._sql = statements

    async def hide(
        self, voice_id: str, guild_id: int, *, hidden_by: int | None, reason: str | None
    ) -> bool:
        """Hide the voice in the server; False when it already was (the first hide stays)."""
        changed = await self._sql.execute(
            "INSERT INTO voice_hides (voice_id, guild_id, hidden_by, reason) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (voice_id, guild_id) DO NOTHING",
            (voice_id, guild_id, hidden_by, reason),
        )
        return changed > 0

    async def unhide(self, voice_id: str, guild_id: int) -> bool:
        """Lift the hide; False when the voice was not hidden there."""
        changed = await self._sql.execute(
            "DELETE FROM voice_hides WHERE voice_id = ? AND guild_id = ?", (voice_id, guild_id)
        )
        return changed > 0

    async def get(self, voice_id: str, guild_id: int) -> VoiceHide | None:
        row = await self._sql.fetch_one(
            "SELECT * FROM voice_hides WHERE voice_id = ? AND guild_id = ?", (voice_id, guild_id)
        )
        return None if row is None else VoiceHide.from_row(row)

    async def is_hidden(self, voice_id: str, guild_id: int) -> bool:
        return await self.get(voice_id, guild_id) is not None

    async def hidden_ids(self, guild_id: int) -> set[str]:
        """The ids of the voices hidden in the server."""
        rows = await self._sql.fetch_all(
            "SELECT voice_id FROM voice_hides WHERE guild_id = ?", (guild_id,)
        )
        return {row[0] for row in rows}

    async def in_guild(self, guild_id: int) -> list[VoiceHide]:
        """The server's hides, newest first."""
        rows = await self._sql.fetch_all(
            "SELECT * FROM voice_hides WHERE guild_id = ? ORDER BY created_at DESC", (guild_id,)
        )
        return [VoiceHide.from_row(row) for row in rows]
