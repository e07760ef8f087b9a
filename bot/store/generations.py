"""SQL for the history of syntheses and covers."""

from __future__ import annotations

from bot.store.database import Database


class GenerationRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

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
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
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
            return int(cursor.lastrowid or 0)

    async def count(self) -> int:
        return int(await self._db.fetch_value("SELECT COUNT(*) FROM generations"))
