"""SQL for long-running jobs (covers, trainings) that must survive a restart."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from bot.store.database import Statements
from bot.store.models import JobState
from bot.store.voices import new_id

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
UNFINISHED = (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    kind: str
    state: JobState
    stage: str | None
    progress: float
    user_id: int | None
    guild_id: int | None
    channel_id: int | None
    message_id: int | None
    voice_id: str | None
    params: dict[str, Any]
    input_path: str | None
    output_path: str | None
    error: str | None
    created_at: str
    updated_at: str
    detail: dict[str, Any] = field(default_factory=dict)
    """The latest progress report beyond stage and fraction (a training's epoch, loss)."""

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        return cls(
            id=row["id"],
            kind=row["kind"],
            state=JobState(row["state"]),
            stage=row["stage"],
            progress=float(row["progress"]),
            user_id=row["user_id"],
            guild_id=row["guild_id"],
            channel_id=row["channel_id"],
            message_id=row["message_id"],
            voice_id=row["voice_id"],
            params=json.loads(row["params"] or "{}"),
            input_path=row["input_path"],
            output_path=row["output_path"],
            error=row["error"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            detail=json.loads(row["detail"] or "{}"),
        )


class JobRepository:
    def __init__(self, statements: Statements) -> None:
        self._sql = statements

    async def create(
        self,
        *,
        kind: str,
        user_id: int | None,
        guild_id: int | None,
        channel_id: int | None,
        voice_id: str | None,
        params: dict[str, Any],
        input_path: str | None,
    ) -> Job:
        job_id = new_id()
        await self._sql.execute(
            "INSERT INTO jobs (id, kind, user_id, guild_id, channel_id, voice_id, params,"
            " input_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (job_id, kind, user_id, guild_id, channel_id, voice_id, json.dumps(params), input_path),
        )
        job = await self.get(job_id)
        assert job is not None
        return job

    async def get(self, job_id: str) -> Job | None:
        row = await self._sql.fetch_one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return None if row is None else Job.from_row(row)

    async def set_message(self, job_id: str, message_id: int) -> None:
        await self._sql.execute(
            f"UPDATE jobs SET message_id = ?, updated_at = {_NOW} WHERE id = ?",
            (message_id, job_id),
        )

    async def advance(
        self, job_id: str, stage: str, progress: float, detail: dict[str, Any] | None = None
    ) -> None:
        """Record progress of a running job (progress is clamped into 0..1); ``detail``
        (JSON) replaces the last one when given."""
        await self._sql.execute(
            f"UPDATE jobs SET state = ?, stage = ?, progress = ?,"
            f" detail = COALESCE(?, detail), updated_at = {_NOW}"
            " WHERE id = ? AND state IN (?, ?)",
            (
                JobState.RUNNING,
                stage,
                min(1.0, max(0.0, progress)),
                None if detail is None else json.dumps(detail),
                job_id,
                *UNFINISHED,
            ),
        )

    async def finish(
        self,
        job_id: str,
        state: JobState,
        *,
        output_path: str | None = None,
        error: str | None = None,
    ) -> None:
        if state in UNFINISHED:
            raise ValueError(f"{state} is not a final state")
        progress = 1.0 if state is JobState.DONE else None
        await self._sql.execute(
            f"UPDATE jobs SET state = ?, output_path = COALESCE(?, output_path), error = ?,"
            f" progress = COALESCE(?, progress), updated_at = {_NOW} WHERE id = ?",
            (state, output_path, error, progress, job_id),
        )

    async def unfinished(self, kind: str | None = None) -> list[Job]:
        rows = await self._sql.fetch_all(
            "SELECT * FROM jobs WHERE state IN (?, ?) AND (? IS NULL OR kind = ?)"
            " ORDER BY created_at",
            (*UNFINISHED, kind, kind),
        )
        return [Job.from_row(row) for row in rows]

    async def active_for_user(self, user_id: int, kind: str) -> int:
        return int(
            await self._sql.fetch_value(
                "SELECT COUNT(*) FROM jobs WHERE user_id = ? AND kind = ? AND state IN (?, ?)",
                (user_id, kind, *UNFINISHED),
            )
        )

    async def count_unfinished(self, kind: str) -> int:
        return int(
            await self._sql.fetch_value(
                "SELECT COUNT(*) FROM jobs WHERE kind = ? AND state IN (?, ?)",
                (kind, *UNFINISHED),
            )
        )

    async def recent(self, kind: str, *, limit: int = 20) -> list[Job]:
        """The latest jobs of a kind, unfinished ones first, newest first."""
        rows = await self._sql.fetch_all(
            "SELECT * FROM jobs WHERE kind = ?"
            " ORDER BY state IN (?, ?) DESC, created_at DESC LIMIT ?",
            (kind, *UNFINISHED, limit),
        )
        return [Job.from_row(row) for row in rows]

    async def count(self, state: JobState) -> int:
        return int(
            await self._sql.fetch_value("SELECT COUNT(*) FROM jobs WHERE state = ?", (state,))
        )
