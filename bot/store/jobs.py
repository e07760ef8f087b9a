"""SQL for long-running jobs (covers) that must survive a restart."""

from __future__ import annotations

from bot.store.database import Database
from bot.store.models import JobState

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


class JobRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def fail_interrupted(self, reason: str) -> int:
        """Mark jobs left queued or running by a previous process as failed."""
        return await self._db.execute(
            f"UPDATE jobs SET state = ?, error = ?, updated_at = {_NOW} WHERE state IN (?, ?)",
            (JobState.FAILED, reason, JobState.QUEUED, JobState.RUNNING),
        )

    async def count(self, state: JobState) -> int:
        return int(
            await self._db.fetch_value("SELECT COUNT(*) FROM jobs WHERE state = ?", (state,))
        )
