"""SQL for voices and their samples. No files are touched here: see :mod:`bot.library`."""

from __future__ import annotations

import secrets
import sqlite3

from bot.store.database import Database
from bot.store.models import Visibility, Voice, VoiceSample, VoiceSource, VoiceStatus

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


def new_id() -> str:
    """A random id that is safe to use as a folder name."""
    return secrets.token_hex(8)


class VoiceNameTakenError(ValueError):
    """The owner already has a voice of that name."""


class VoiceRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(
        self,
        *,
        name: str,
        owner_id: int | None,
        guild_id: int | None,
        visibility: Visibility = Visibility.PRIVATE,
        source: VoiceSource = VoiceSource.UPLOAD,
        status: VoiceStatus = VoiceStatus.PENDING,
        voice_id: str | None = None,
        consent_at: str | None = None,
    ) -> Voice:
        voice_id = voice_id or new_id()
        try:
            await self._db.execute(
                "INSERT INTO voices (id, name, owner_id, guild_id, visibility, source, status,"
                " consent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (voice_id, name, owner_id, guild_id, visibility, source, status, consent_at),
            )
        except sqlite3.IntegrityError as error:
            if "voices_owner_name" in str(error):  # not the primary key: a duplicate id
                raise VoiceNameTakenError(f"a voice named {name!r} already exists") from None
            raise
        voice = await self.get(voice_id)
        assert voice is not None
        return voice

    async def get(self, voice_id: str) -> Voice | None:
        row = await self._db.fetch_one("SELECT * FROM voices WHERE id = ?", (voice_id,))
        return None if row is None else Voice.from_row(row)

    async def find(self, reference: str) -> list[Voice]:
        """Voices whose id is ``reference`` or whose name is ``reference`` (any case)."""
        rows = await self._db.fetch_all(
            "SELECT * FROM voices WHERE id = ? OR name = ? ORDER BY created_at",
            (reference, reference),
        )
        return [Voice.from_row(row) for row in rows]

    async def list(
        self, *, owner_id: int | None = None, guild_id: int | None = None
    ) -> list[Voice]:
        clauses, parameters = [], []
        if owner_id is not None:
            clauses.append("owner_id = ?")
            parameters.append(owner_id)
        if guild_id is not None:
            clauses.append("guild_id = ?")
            parameters.append(guild_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._db.fetch_all(
            f"SELECT * FROM voices {where} ORDER BY name COLLATE NOCASE", parameters
        )
        return [Voice.from_row(row) for row in rows]

    async def usable(
        self, *, guild_id: int, user_id: int, include_guild_private: bool = False
    ) -> list[Voice]:
        """Ready voices a member may speak with here: theirs, the server's shared ones, presets.

        ``include_guild_private`` adds other members' private voices enrolled in this server
        (server managers may use those).
        """
        private_clause = "OR guild_id = :guild" if include_guild_private else ""
        rows = await self._db.fetch_all(
            "SELECT * FROM voices WHERE status = 'ready' AND ("
            " owner_id = :user OR visibility = 'global'"
            f" OR (visibility = 'guild' AND guild_id = :guild) {private_clause})"
            " ORDER BY owner_id = :user DESC, name COLLATE NOCASE",
            {"user": user_id, "guild": guild_id},
        )
        return [Voice.from_row(row) for row in rows]

    async def rename(self, voice_id: str, name: str) -> None:
        try:
            await self._db.execute(
                f"UPDATE voices SET name = ?, updated_at = {_NOW} WHERE id = ?", (name, voice_id)
            )
        except sqlite3.IntegrityError as error:
            if "voices_owner_name" in str(error):
                raise VoiceNameTakenError(f"a voice named {name!r} already exists") from None
            raise

    async def set_visibility(self, voice_id: str, visibility: Visibility) -> None:
        await self._db.execute(
            f"UPDATE voices SET visibility = ?, updated_at = {_NOW} WHERE id = ?",
            (visibility, voice_id),
        )

    async def count(self, *, status: VoiceStatus | None = None) -> int:
        if status is None:
            return int(await self._db.fetch_value("SELECT COUNT(*) FROM voices"))
        return int(
            await self._db.fetch_value("SELECT COUNT(*) FROM voices WHERE status = ?", (status,))
        )

    async def set_status(
        self, voice_id: str, status: VoiceStatus, detail: str | None = None
    ) -> None:
        await self._db.execute(
            f"UPDATE voices SET status = ?, status_detail = ?, updated_at = {_NOW} WHERE id = ?",
            (status, detail, voice_id),
        )

    async def set_conditionals(self, voice_id: str, path: str, tts_model: str) -> None:
        await self._db.execute(
            f"UPDATE voices SET conditionals = ?, tts_model = ?, updated_at = {_NOW} WHERE id = ?",
            (path, tts_model, voice_id),
        )

    async def set_singing_model(
        self, voice_id: str, model: str | None, index: str | None = None
    ) -> None:
        """Point the voice at its RVC files (paths relative to the data dir), or at none."""
        await self._db.execute(
            f"UPDATE voices SET rvc_model = ?, rvc_index = ?, updated_at = {_NOW} WHERE id = ?",
            (model, index if model else None, voice_id),
        )

    async def delete(self, voice_id: str) -> bool:
        """Delete the rows (samples go by cascade). The caller removes the files after."""
        return await self._db.execute("DELETE FROM voices WHERE id = ?", (voice_id,)) > 0

    async def all_ids(self) -> set[str]:
        rows = await self._db.fetch_all("SELECT id FROM voices")
        return {row[0] for row in rows}

    # samples ---------------------------------------------------------------------
    async def add_sample(
        self,
        *,
        voice_id: str,
        path: str,
        original_name: str | None,
        sha256: str,
        duration_s: float,
        sample_rate: int,
        sample_id: str | None = None,
    ) -> VoiceSample:
        sample_id = sample_id or new_id()
        await self._db.execute(
            "INSERT INTO voice_samples (id, voice_id, path, original_name, sha256, duration_s,"
            " sample_rate) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (sample_id, voice_id, path, original_name, sha256, duration_s, sample_rate),
        )
        row = await self._db.fetch_one("SELECT * FROM voice_samples WHERE id = ?", (sample_id,))
        assert row is not None
        return VoiceSample.from_row(row)

    async def samples(self, voice_id: str) -> list[VoiceSample]:
        rows = await self._db.fetch_all(
            "SELECT * FROM voice_samples WHERE voice_id = ? ORDER BY created_at, id", (voice_id,)
        )
        return [VoiceSample.from_row(row) for row in rows]
