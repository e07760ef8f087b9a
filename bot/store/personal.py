"""SQL for members' data rights: gather everything about a member, or delete it.

Deleting returns the files the removed rows pointed at (paths relative to the data dir);
the caller removes them *after* the rows, so a crash leaves only orphans. The audit trail
is not deleted but forgets the member (see :meth:`AuditRepository.forget_member`).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.store.audit import AuditAction, AuditRepository, Who
from bot.store.database import Statements, Transaction
from bot.store.models import JobState

_FINAL_STATES = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass(slots=True)
class Removed:
    """What a deletion took out of the database, and the files left to remove."""

    voice_ids: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)


OnSelected = Callable[[Removed], Awaitable[None]]


def _row_dict(row: sqlite3.Row) -> dict[str, Any]:
    record = {key: row[key] for key in row.keys()}  # noqa: SIM118 (sqlite3.Row is not a dict)
    for key in ("params", "detail"):  # JSON columns
        if isinstance(record.get(key), str):
            with contextlib.suppress(json.JSONDecodeError):
                record[key] = json.loads(record[key])
    return record


class PersonalDataRepository:
    def __init__(self, statements: Statements) -> None:
        self._sql = statements

    # gathering ---------------------------------------------------------------------------
    async def member_records(self, user_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every row about the member: their voices and samples (with how consent was
        given), history, settings, jobs, the audit entries they made or that concern their
        voices, and the hides they made as a moderator or that hide their voices."""
        their_voices = "SELECT id FROM voices WHERE owner_id = :id"
        queries: dict[str, tuple[str, tuple[Any, ...] | dict[str, Any]]] = {
            "voices": ("SELECT * FROM voices WHERE owner_id = ? ORDER BY created_at", (user_id,)),
            "voice_samples": (
                "SELECT s.* FROM voice_samples s JOIN voices v ON v.id = s.voice_id"
                " WHERE v.owner_id = ? ORDER BY s.voice_id, s.created_at",
                (user_id,),
            ),
            "generations": (
                "SELECT g.*, v.name AS voice_name FROM generations g"
                " LEFT JOIN voices v ON v.id = g.voice_id WHERE g.user_id = ? ORDER BY g.id",
                (user_id,),
            ),
            "member_settings": (
                "SELECT * FROM member_settings WHERE user_id = ? ORDER BY guild_id",
                (user_id,),
            ),
            "jobs": ("SELECT * FROM jobs WHERE user_id = ? ORDER BY created_at", (user_id,)),
            "audit_log": (
                "SELECT * FROM audit_log WHERE (actor_kind = 'member' AND actor_id = :id)"
                f" OR voice_owner_id = :id OR voice_id IN ({their_voices}) ORDER BY id",
                {"id": user_id},
            ),
            "voice_hides": (
                "SELECT * FROM voice_hides WHERE hidden_by = :id"
                f" OR voice_id IN ({their_voices}) ORDER BY created_at, voice_id",
                {"id": user_id},
            ),
        }
        records = {}
        for name, (sql, parameters) in queries.items():
            records[name] = [_row_dict(row) for row in await self._sql.fetch_all(sql, parameters)]
        return records

    # deleting ----------------------------------------------------------------------------
    async def delete_member(
        self, user_id: int, on_selected: OnSelected | None = None, *, who: Who | None = None
    ) -> Removed:
        """Remove the member's voices (with samples and hides), history, settings and jobs;
        the audit trail forgets them, and hides they made as a moderator forget who and
        why (the voice stays hidden). ``who``: record the purge itself (naming nobody)."""
        async with self._sql.atomic() as transaction:
            removed = await _delete(
                transaction,
                voices="owner_id = :id",
                history="user_id = :id",
                settings=[("member_settings", "user_id = :id")],
                parameters={"id": user_id},
                on_selected=on_selected,
            )
            audit = AuditRepository(transaction)
            removed.rows["audit_log"] = await audit.forget_member(user_id, removed.voice_ids)
            removed.rows["voice_hides"] = await transaction.execute(
                "UPDATE voice_hides SET hidden_by = NULL, reason = NULL WHERE hidden_by = ?",
                (user_id,),
            )
            if who is not None:
                await _record_purge(audit, who, "member", removed)
            return removed

    async def delete_guild(
        self, guild_id: int, on_selected: OnSelected | None = None, *, who: Who | None = None
    ) -> Removed:
        """Remove a server's settings, its members' settings there, the voices enrolled
        there, its history, jobs and hides.

        The audit trail keeps its entries but forgets the server (entries that happened
        there lose the server id and their detail) and the voices deleted with it (their
        entries, wherever they happened, lose the voice's id, name and owner). Who acted
        stays: members are not purged with a server. ``who``: record the purge itself."""
        async with self._sql.atomic() as transaction:
            removed = await _delete(
                transaction,
                voices="guild_id = :id",
                history="guild_id = :id",
                settings=[
                    ("member_settings", "guild_id = :id"),
                    ("guild_settings", "guild_id = :id"),
                    ("voice_hides", "guild_id = :id"),
                ],
                parameters={"id": guild_id},
                on_selected=on_selected,
            )
            audit = AuditRepository(transaction)
            removed.rows["audit_log"] = await audit.forget_guild(guild_id, removed.voice_ids)
            if who is not None:
                await _record_purge(audit, who, "server", removed)
            return removed

    async def expire_outputs(self, before: str) -> list[str]:
        """Forget generated audio files older than ``before`` (ISO UTC); returns their paths.

        The history rows stay (without a file); finished jobs lose their output path.
        """
        async with self._sql.atomic() as transaction:
            files = await _values(
                transaction,
                "SELECT output_path FROM generations"
                " WHERE output_path IS NOT NULL AND created_at < ?",
                (before,),
            )
            files += await _values(
                transaction,
                "SELECT output_path FROM jobs WHERE output_path IS NOT NULL"
                " AND updated_at < ? AND state IN (?, ?, ?)",
                (before, *_FINAL_STATES),
            )
            await transaction.execute(
                "UPDATE generations SET output_path = NULL"
                " WHERE output_path IS NOT NULL AND created_at < ?",
                (before,),
            )
            await transaction.execute(
                "UPDATE jobs SET output_path = NULL WHERE output_path IS NOT NULL"
                " AND updated_at < ? AND state IN (?, ?, ?)",
                (before, *_FINAL_STATES),
            )
        return sorted(set(files))

    async def referenced_files(self) -> set[str]:
        """Every file path a generation or job row points at."""
        rows = await self._sql.fetch_all(
            "SELECT output_path FROM generations WHERE output_path IS NOT NULL"
            " UNION SELECT output_path FROM jobs WHERE output_path IS NOT NULL"
            " UNION SELECT input_path FROM jobs WHERE input_path IS NOT NULL"
        )
        return {str(row[0]) for row in rows}

    async def erase_freed_content(self) -> None:
        """From now on, this connection overwrites deleted content with zeros.

        Without it SQLite leaves deleted rows readable in free pages of the file.
        """
        await self._sql.fetch_all("PRAGMA secure_delete = ON")

    async def checkpoint(self) -> None:
        """Move the WAL into the database and truncate it, so that old page images of
        deleted rows do not linger in ``parrot.db-wal``."""
        await self._sql.fetch_all("PRAGMA wal_checkpoint(TRUNCATE)")


async def _record_purge(audit: AuditRepository, who: Who, target: str, removed: Removed) -> None:
    """The purge in the trail, naming neither the member or server nor their voices."""
    await audit.record(
        AuditAction.PURGE, who, detail={"target": target, "voices": len(removed.voice_ids)}
    )


async def _values(
    transaction: Transaction, sql: str, parameters: tuple[Any, ...] | dict[str, Any]
) -> list[str]:
    rows = await transaction.fetch_all(sql, parameters)
    return [str(row[0]) for row in rows if row[0] is not None]


async def _delete(
    transaction: Transaction,
    *,
    voices: str,
    history: str,
    settings: list[tuple[str, str]],
    parameters: dict[str, Any],
    on_selected: OnSelected | None,
) -> Removed:
    """Delete inside an open transaction. ``voices`` and ``history`` are WHERE clauses on
    ``voices`` and on ``generations``/``jobs``; ``settings`` lists (table, clause) pairs.
    ``on_selected`` hears what will go before anything is deleted (to journal the files)."""
    removed = Removed()
    doomed_voices = f"SELECT id FROM voices WHERE {voices}"
    removed.voice_ids = await _values(transaction, doomed_voices, parameters)
    # Audio made with these voices goes too, whoever asked for it: it is the member's voice.
    removed.files = await _values(
        transaction,
        f"SELECT output_path FROM generations WHERE {history} OR voice_id IN ({doomed_voices})",
        parameters,
    )
    for column in ("output_path", "input_path"):
        removed.files += await _values(
            transaction,
            f"SELECT {column} FROM jobs WHERE {history}"
            + (f" OR voice_id IN ({doomed_voices})" if column == "output_path" else ""),
            parameters,
        )
    removed.files = sorted(set(removed.files))
    if on_selected is not None:
        await on_selected(removed)
    statements = [
        (
            "generations of others, audio removed",
            "UPDATE generations SET output_path = NULL"
            f" WHERE voice_id IN ({doomed_voices}) AND NOT COALESCE({history}, 0)",
        ),
        (
            "jobs of others, audio removed",
            "UPDATE jobs SET output_path = NULL"
            f" WHERE voice_id IN ({doomed_voices}) AND NOT COALESCE({history}, 0)",
        ),
        ("generations", f"DELETE FROM generations WHERE {history}"),
        ("jobs", f"DELETE FROM jobs WHERE {history}"),
        *[(table, f"DELETE FROM {table} WHERE {clause}") for table, clause in settings],
        ("voices", f"DELETE FROM voices WHERE {voices}"),
    ]
    for name, sql in statements:
        removed.rows[name] = await transaction.execute(sql, parameters)
    return removed
