"""SQL for rebuilding voices after a TTS model switch: which voices wait for which model,
which were rebuilt and which failed (and why). No files are touched here: see
:mod:`bot.voices.rebuild`.

A round is every row of one model. It starts when voices are queued while none of that
model waits: the rows finished in the previous round are dropped then (failed ones stay,
so the start-up rebuild does not try them again and again), and its progress reads
"n of m" rows finished until the next round.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.store.database import Statements

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


class RebuildState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Rebuild:
    """One voice's rebuild for one model."""

    voice_id: str
    tts_model: str
    state: RebuildState
    detail: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Rebuild:
        return cls(row["voice_id"], row["tts_model"], RebuildState(row["state"]), row["detail"])


@dataclass(frozen=True, slots=True)
class RebuildProgress:
    """A round's progress for one model."""

    finished: int
    """Rebuilt or failed."""
    total: int
    failed: int = 0

    @property
    def waiting(self) -> int:
        return self.total - self.finished

    def __str__(self) -> str:
        return f"{self.finished} of {self.total}"


class RebuildRepository:
    def __init__(self, statements: Statements) -> None:
        self._sql = statements

    async def queue(
        self, tts_model: str, voice_ids: Iterable[str], *, retry_failed: bool = False
    ) -> list[str]:
        """Queue voices for ``tts_model`` (continuing the round if one is under way);
        returns the ids now waiting, oldest first.

        A failed voice stays failed unless ``retry_failed``; a voice finished earlier in
        this round waits again (its conditionals went missing)."""
        ids = json.dumps(list(dict.fromkeys(voice_ids)))
        requeue = "state != 'pending'" if retry_failed else "state = 'done'"
        async with self._sql.atomic() as sql:
            waiting = await sql.fetch_value(
                "SELECT COUNT(*) FROM voice_rebuilds WHERE tts_model = ? AND state = 'pending'",
                (tts_model,),
            )
            if not waiting:  # a new round: forget the last one's finished rows
                forgotten = "1" if retry_failed else "state = 'done'"
                await sql.execute(
                    f"DELETE FROM voice_rebuilds WHERE tts_model = ? AND {forgotten}",
                    (tts_model,),
                )
            await sql.execute(
                "INSERT INTO voice_rebuilds (voice_id, tts_model)"
                " SELECT value, ? FROM json_each(?) WHERE value IN (SELECT id FROM voices)"
                " ON CONFLICT (voice_id, tts_model) DO UPDATE SET state = 'pending',"
                f" detail = NULL, queued_at = {_NOW}, updated_at = {_NOW} WHERE {requeue}",
                (tts_model, ids),
            )
            rows = await sql.fetch_all(
                "SELECT voice_id FROM voice_rebuilds WHERE tts_model = ? AND state = 'pending'"
                " ORDER BY queued_at, rowid",
                (tts_model,),
            )
        return [str(row[0]) for row in rows]

    async def finish(
        self, voice_id: str, tts_model: str, state: RebuildState, detail: str | None = None
    ) -> None:
        """Record how a voice's rebuild ended (a row is made if it was not queued; none
        once the voice is deleted)."""
        await self._sql.execute(
            "INSERT INTO voice_rebuilds (voice_id, tts_model, state, detail)"
            " SELECT id, ?, ?, ? FROM voices WHERE id = ?"
            " ON CONFLICT (voice_id, tts_model) DO UPDATE SET state = excluded.state,"
            f" detail = excluded.detail, updated_at = {_NOW}",
            (tts_model, state, detail, voice_id),
        )

    async def forget(self, voice_id: str, tts_model: str) -> None:
        """Drop a voice from the model's round (it is retired: nothing to rebuild)."""
        await self._sql.execute(
            "DELETE FROM voice_rebuilds WHERE voice_id = ? AND tts_model = ?",
            (voice_id, tts_model),
        )

    async def get(self, voice_id: str, tts_model: str) -> Rebuild | None:
        row = await self._sql.fetch_one(
            "SELECT * FROM voice_rebuilds WHERE voice_id = ? AND tts_model = ?",
            (voice_id, tts_model),
        )
        return None if row is None else Rebuild.from_row(row)

    async def of_model(self, tts_model: str) -> dict[str, Rebuild]:
        """Every row of ``tts_model``, by voice id."""
        rows = await self._sql.fetch_all(
            "SELECT * FROM voice_rebuilds WHERE tts_model = ?", (tts_model,)
        )
        return {str(row["voice_id"]): Rebuild.from_row(row) for row in rows}

    async def progress(self, tts_model: str) -> RebuildProgress:
        row = await self._sql.fetch_one(
            "SELECT COUNT(*), COALESCE(SUM(state != 'pending'), 0),"
            " COALESCE(SUM(state = 'failed'), 0) FROM voice_rebuilds WHERE tts_model = ?",
            (tts_model,),
        )
        assert row is not None
        return RebuildProgress(finished=int(row[1]), total=int(row[0]), failed=int(row[2]))
