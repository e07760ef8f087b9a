"""SQL for voices and their samples. No files are touched here: see
:mod:`bot.voices.files`."""

from __future__ import annotations

import builtins
import contextlib
import secrets
import sqlite3
from collections.abc import Iterator

from bot.store.database import Statements
from bot.store.models import Consent, Visibility, Voice, VoiceSample, VoiceSource, VoiceStatus
from bot.store.rebuilds import RebuildRepository
from engine.api import ParrotError

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
_NOT_HIDDEN_IN_GUILD = "id NOT IN (SELECT voice_id FROM voice_hides WHERE guild_id = :guild)"


def new_id() -> str:
    """A random id that is safe to use as a folder name."""
    return secrets.token_hex(8)


class VoiceNameTakenError(ParrotError, ValueError):
    """The owner already has a voice of that name."""


@contextlib.contextmanager
def _name_taken_as_error(name: str) -> Iterator[None]:
    """The owner-and-name clash as :class:`VoiceNameTakenError`; other violations unchanged."""
    try:
        yield
    except sqlite3.IntegrityError as error:
        if "voices_owner_name" in str(error):  # not the primary key: a duplicate id
            raise VoiceNameTakenError(f"a voice named {name!r} already exists") from None
        raise


class VoiceRepository:
    def __init__(self, statements: Statements) -> None:
        self._sql = statements
        self.rebuilds = RebuildRepository(statements)
        """Voices rebuilt for another TTS model (``work.voices.rebuilds`` in a unit of work)."""

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
        consent: Consent | None = None,
        tts_model: str | None = None,
        conditionals: str | None = None,
        rvc_model: str | None = None,
        rvc_index: str | None = None,
    ) -> Voice:
        """Insert a voice; its files (paths relative to the data dir) must already exist."""
        voice_id = voice_id or new_id()
        with _name_taken_as_error(name):
            await self._sql.execute(
                "INSERT INTO voices (id, name, owner_id, guild_id, visibility, source, status,"
                " tts_model, conditionals, rvc_model, rvc_index, consent_at, consent_via)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    voice_id,
                    name,
                    owner_id,
                    guild_id,
                    visibility,
                    source,
                    status,
                    tts_model,
                    conditionals,
                    rvc_model,
                    rvc_index,
                    consent.at if consent else None,
                    consent.via.value if consent else None,
                ),
            )
        voice = await self.get(voice_id)
        assert voice is not None
        return voice

    async def get(self, voice_id: str) -> Voice | None:
        row = await self._sql.fetch_one("SELECT * FROM voices WHERE id = ?", (voice_id,))
        return None if row is None else Voice.from_row(row)

    async def find(self, reference: str) -> builtins.list[Voice]:
        """Voices whose id is ``reference`` or whose name is ``reference`` (any case)."""
        rows = await self._sql.fetch_all(
            "SELECT * FROM voices WHERE id = ? OR name = ? ORDER BY created_at",
            (reference, reference),
        )
        return [Voice.from_row(row) for row in rows]

    async def list(
        self, *, owner_id: int | None = None, guild_id: int | None = None
    ) -> builtins.list[Voice]:
        clauses, parameters = [], []
        if owner_id is not None:
            clauses.append("owner_id = ?")
            parameters.append(owner_id)
        if guild_id is not None:
            clauses.append("guild_id = ?")
            parameters.append(guild_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._sql.fetch_all(
            f"SELECT * FROM voices {where} ORDER BY name COLLATE NOCASE", parameters
        )
        return [Voice.from_row(row) for row in rows]

    async def usable(self, *, guild_id: int, user_id: int) -> builtins.list[Voice]:
        """Ready voices a member may speak with here: theirs, the server's shared ones and
        presets, less those the server's moderators hid here."""
        rows = await self._sql.fetch_all(
            "SELECT * FROM voices WHERE status = 'ready' AND ("
            " owner_id = :user OR visibility = 'global'"
            " OR (visibility = 'guild' AND guild_id = :guild))"
            f" AND {_NOT_HIDDEN_IN_GUILD}"
            " ORDER BY owner_id = :user DESC, name COLLATE NOCASE",
            {"user": user_id, "guild": guild_id},
        )
        return [Voice.from_row(row) for row in rows]

    async def rebuildable(self) -> builtins.list[Voice]:
        """Voices that can be rebuilt from their stored samples (ready ones, and pending
        ones such as an archive imported without conditionals): those spoken most recently
        first, then presets, then the oldest."""
        rows = await self._sql.fetch_all(
            "SELECT * FROM voices WHERE status IN ('ready', 'pending')"
            " AND EXISTS (SELECT 1 FROM voice_samples WHERE voice_id = voices.id)"
            " ORDER BY (SELECT MAX(created_at) FROM generations WHERE voice_id = voices.id)"
            " DESC NULLS LAST, visibility = 'global' DESC, created_at, id"
        )
        return [Voice.from_row(row) for row in rows]

    async def moderatable(self, guild_id: int) -> builtins.list[Voice]:
        """Voices a server's moderators may want to act on: those enrolled there, presets,
        those hidden there and any voice spoken there (a member's voice from elsewhere)."""
        rows = await self._sql.fetch_all(
            "SELECT * FROM voices WHERE status != 'retired' AND ("
            " guild_id = :guild OR visibility = 'global'"
            " OR id IN (SELECT voice_id FROM voice_hides WHERE guild_id = :guild)"
            " OR id IN (SELECT voice_id FROM generations WHERE guild_id = :guild))"
            " ORDER BY name COLLATE NOCASE",
            {"guild": guild_id},
        )
        return [Voice.from_row(row) for row in rows]

    async def rename(self, voice_id: str, name: str) -> None:
        with _name_taken_as_error(name):
            await self._sql.execute(
                f"UPDATE voices SET name = ?, updated_at = {_NOW} WHERE id = ?", (name, voice_id)
            )

    async def make_global(self, voice_id: str, name: str) -> None:
        """Rename the voice and offer it in every server (a preset)."""
        with _name_taken_as_error(name):
            await self._sql.execute(
                f"UPDATE voices SET name = ?, visibility = ?, updated_at = {_NOW} WHERE id = ?",
                (name, Visibility.GLOBAL, voice_id),
            )

    async def set_visibility(self, voice_id: str, visibility: Visibility) -> None:
        await self._sql.execute(
            f"UPDATE voices SET visibility = ?, updated_at = {_NOW} WHERE id = ?",
            (visibility, voice_id),
        )

    async def count(self, *, status: VoiceStatus | None = None) -> int:
        if status is None:
            return int(await self._sql.fetch_value("SELECT COUNT(*) FROM voices"))
        return int(
            await self._sql.fetch_value("SELECT COUNT(*) FROM voices WHERE status = ?", (status,))
        )

    async def set_status(
        self, voice_id: str, status: VoiceStatus, detail: str | None = None
    ) -> None:
        await self._sql.execute(
            f"UPDATE voices SET status = ?, status_detail = ?, updated_at = {_NOW} WHERE id = ?",
            (status, detail, voice_id),
        )

    async def set_conditionals(self, voice_id: str, path: str, tts_model: str) -> None:
        await self._sql.execute(
            f"UPDATE voices SET conditionals = ?, tts_model = ?, updated_at = {_NOW} WHERE id = ?",
            (path, tts_model, voice_id),
        )

    async def mark_ready(self, voice_id: str, *, conditionals: str, tts_model: str) -> None:
        """Point the voice at freshly built conditionals and make it usable."""
        await self._sql.execute(
            f"UPDATE voices SET conditionals = ?, tts_model = ?, status = ?, updated_at = {_NOW}"
            " WHERE id = ?",
            (conditionals, tts_model, VoiceStatus.READY, voice_id),
        )

    async def set_singing_model(
        self, voice_id: str, model: str | None, index: str | None = None
    ) -> None:
        """Point the voice at its RVC files (paths relative to the data dir), or at none."""
        await self._sql.execute(
            f"UPDATE voices SET rvc_model = ?, rvc_index = ?, updated_at = {_NOW} WHERE id = ?",
            (model, index if model else None, voice_id),
        )

    async def delete(self, voice_id: str) -> bool:
        """Delete the rows (samples go by cascade). The caller removes the files after."""
        return await self._sql.execute("DELETE FROM voices WHERE id = ?", (voice_id,)) > 0

    async def all_ids(self) -> set[str]:
        rows = await self._sql.fetch_all("SELECT id FROM voices")
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
        consent: Consent | None = None,
    ) -> VoiceSample:
        sample_id = sample_id or new_id()
        await self._sql.execute(
            "INSERT INTO voice_samples (id, voice_id, path, original_name, sha256, duration_s,"
            " sample_rate, consent_at, consent_via) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sample_id,
                voice_id,
                path,
                original_name,
                sha256,
                duration_s,
                sample_rate,
                consent.at if consent else None,
                consent.via.value if consent else None,
            ),
        )
        row = await self._sql.fetch_one("SELECT * FROM voice_samples WHERE id = ?", (sample_id,))
        assert row is not None
        return VoiceSample.from_row(row)

    async def samples(self, voice_id: str) -> builtins.list[VoiceSample]:
        rows = await self._sql.fetch_all(
            "SELECT * FROM voice_samples WHERE voice_id = ? ORDER BY created_at, id", (voice_id,)
        )
        return [VoiceSample.from_row(row) for row in rows]
