"""SQL for the audit trail: who did what to which voice or setting, and when.

Record an action in the same unit of work as the change it describes, so that both
land or neither does::

    async with store.unit_of_work() as work:
        await work.voices.rename(voice.id, name)
        await work.audit.record(AuditAction.RENAME, Who.member(user_id), voice=voice,
                                guild_id=guild_id, detail={"from": voice.name, "to": name})
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.store.database import Statements
from bot.store.models import Voice


class AuditAction(StrEnum):
    ENROL = "enrol"
    ADD_SAMPLE = "add-sample"
    RENAME = "rename"
    SHARE = "share"
    UNSHARE = "unshare"
    HIDE = "hide"
    UNHIDE = "unhide"
    DELETE = "delete"
    ATTACH_SINGING_MODEL = "attach-singing-model"
    REMOVE_SINGING_MODEL = "remove-singing-model"
    TRAIN = "train"
    REBUILD = "rebuild"  # conditionals rebuilt from the samples for another TTS model
    SETTINGS = "settings"
    IMPORT = "import"
    """A voice created from an archive (``parrot voices import``)."""
    REPLACE = "replace"
    """A preset's new version took the place of the old voice (which gets a ``delete``)."""
    RETIRE = "retire"
    """A preset whose reference file was removed."""
    RESTORE = "restore"
    """A retired preset whose reference file came back."""
    PURGE = "purge"
    """A member's or a server's data deleted (``/privacy delete``, ``parrot purge``); the
    entry names neither, and their earlier entries lose who and which voice."""


class ActorKind(StrEnum):
    MEMBER = "member"
    CLI = "cli"
    """The bot owner, through the ``parrot`` command line."""
    SYSTEM = "system"
    """Parrot itself (presets imported at start-up, retention)."""


@dataclass(frozen=True, slots=True)
class Who:
    """Who acted: a member (by Discord id), the CLI, or Parrot itself."""

    kind: ActorKind
    member_id: int | None = None

    @classmethod
    def member(cls, member_id: int) -> Who:
        return cls(ActorKind.MEMBER, member_id)

    @classmethod
    def cli(cls) -> Who:
        return cls(ActorKind.CLI)

    @classmethod
    def system(cls) -> Who:
        return cls(ActorKind.SYSTEM)

    @classmethod
    def forgotten_member(cls) -> Who:
        """A member whose identity was purged (or who acted to purge it)."""
        return cls(ActorKind.MEMBER)

    def __str__(self) -> str:
        if self.kind is ActorKind.MEMBER:
            return "member (forgotten)" if self.member_id is None else f"member {self.member_id}"
        return self.kind.value


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: str
    who: Who
    action: AuditAction
    voice_id: str | None
    voice_name: str | None
    voice_owner_id: int | None
    guild_id: int | None
    detail: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> AuditEntry:
        detail = json.loads(row["detail"]) if row["detail"] else None
        return cls(
            id=int(row["id"]),
            at=row["at"],
            who=Who(ActorKind(row["actor_kind"]), row["actor_id"]),
            action=AuditAction(row["action"]),
            voice_id=row["voice_id"],
            voice_name=row["voice_name"],
            voice_owner_id=row["voice_owner_id"],
            guild_id=row["guild_id"],
            detail=detail,
        )

    def as_dict(self) -> dict[str, Any]:
        """The entry for JSON (``parrot audit --json``, the privacy export)."""
        return {
            "id": self.id,
            "at": self.at,
            "actor_kind": self.who.kind.value,
            "actor_id": self.who.member_id,
            "action": self.action.value,
            "voice_id": self.voice_id,
            "voice_name": self.voice_name,
            "voice_owner_id": self.voice_owner_id,
            "guild_id": self.guild_id,
            "detail": self.detail,
        }


_FORGET_VOICE = "voice_id = NULL, voice_name = NULL, voice_owner_id = NULL, detail = NULL"
_IN_VOICES = "voice_id IN (SELECT value FROM json_each(:voices))"


class AuditRepository:
    def __init__(self, statements: Statements) -> None:
        self._sql = statements

    async def record(
        self,
        action: AuditAction,
        who: Who,
        *,
        voice: Voice | None = None,
        guild_id: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> int:
        """Append one entry; ``guild_id`` is where it happened (the voice's home if None)."""
        where = guild_id if guild_id is not None else (voice.guild_id if voice else None)
        return await self._sql.insert(
            "INSERT INTO audit_log (actor_kind, actor_id, action, voice_id, voice_name,"
            " voice_owner_id, guild_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                who.kind.value,
                who.member_id,
                action.value,
                voice.id if voice else None,
                voice.name if voice else None,
                voice.owner_id if voice else None,
                where,
                json.dumps(dict(detail), sort_keys=True) if detail else None,
            ),
        )

    async def entries(
        self,
        *,
        voice_id: str | None = None,
        member_id: int | None = None,
        guild_id: int | None = None,
        since: str | None = None,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        """Newest first. ``member_id`` matches entries the member made or that concern
        one of their voices; ``since`` is an ISO UTC time."""
        clauses: list[str] = []
        parameters: list[Any] = []
        if voice_id is not None:
            clauses.append("voice_id = ?")
            parameters.append(voice_id)
        if member_id is not None:
            clauses.append("(actor_id = ? OR voice_owner_id = ?)")
            parameters += [member_id, member_id]
        if guild_id is not None:
            clauses.append("guild_id = ?")
            parameters.append(guild_id)
        if since is not None:
            clauses.append("at >= ?")
            parameters.append(since)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._sql.fetch_all(
            f"SELECT * FROM audit_log{where} ORDER BY at DESC, id DESC LIMIT ?",
            (*parameters, limit),
        )
        return [AuditEntry.from_row(row) for row in rows]

    async def voice_ids(self, reference: str) -> list[str]:
        """Ids of voices, deleted ones included, that the trail knows by this id or name."""
        rows = await self._sql.fetch_all(
            "SELECT voice_id FROM audit_log WHERE voice_id = ? OR voice_name = ? COLLATE NOCASE"
            " GROUP BY voice_id ORDER BY MIN(id)",
            (reference, reference),
        )
        return [str(row[0]) for row in rows]

    # forgetting: the action and its time stay, who and which voice go ---------------------
    async def forget_member(self, member_id: int, voice_ids: list[str]) -> int:
        """Drop a purged member from the trail; returns the rows each update changed, summed.

        Entries about their voices (``voice_ids``: those being deleted, and any recorded with
        them as owner) lose the voice (id, name, owner) and the detail; entries they made
        lose who made them and the detail (it may hold names). An entry they made about
        someone else's voice keeps that voice: it is the other member's trail.
        """
        parameters = {"member": member_id, "voices": json.dumps(voice_ids)}
        changed = await self._sql.execute(
            f"UPDATE audit_log SET {_FORGET_VOICE} WHERE voice_owner_id = :member OR {_IN_VOICES}",
            parameters,
        )
        changed += await self._sql.execute(
            "UPDATE audit_log SET actor_id = NULL, detail = NULL"
            " WHERE actor_kind = 'member' AND actor_id = :member",
            parameters,
        )
        return changed

    async def forget_guild(self, guild_id: int, voice_ids: list[str]) -> int:
        """Drop a purged server from the trail; returns the rows each update changed, summed.

        Entries that happened there lose the server and the detail; entries about the voices
        deleted with it (``voice_ids``, wherever they happened) lose the voice and the
        detail. Who acted stays: those members were not purged.
        """
        parameters = {"guild": guild_id, "voices": json.dumps(voice_ids)}
        changed = await self._sql.execute(
            f"UPDATE audit_log SET {_FORGET_VOICE} WHERE {_IN_VOICES}", parameters
        )
        changed += await self._sql.execute(
            "UPDATE audit_log SET guild_id = NULL, detail = NULL WHERE guild_id = :guild",
            parameters,
        )
        return changed
