"""SQL for per-server and per-member options."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields

from bot.store.database import Statements

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """A server's options; a server that never changed anything gets these defaults."""

    guild_id: int
    default_voice_id: str | None = None
    announce_names: bool = False
    max_text_chars: int = 300
    required_role_id: int | None = None
    idle_timeout_s: int = 300
    autoread_channel_id: int | None = None
    default_language: str | None = None
    """For members who chose no language; None: the model's own default."""

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> GuildSettings:
        return cls(
            guild_id=row["guild_id"],
            default_voice_id=row["default_voice_id"],
            announce_names=bool(row["announce_names"]),
            max_text_chars=int(row["max_text_chars"]),
            required_role_id=row["required_role_id"],
            idle_timeout_s=int(row["idle_timeout_s"]),
            autoread_channel_id=row["autoread_channel_id"],
            default_language=row["default_language"],
        )


GUILD_OPTIONS = frozenset(f.name for f in fields(GuildSettings)) - {"guild_id"}


@dataclass(frozen=True, slots=True)
class SpeakingPreferences:
    """How a member likes to be spoken for in one server; None: not chosen."""

    language: str | None = None
    exaggeration: float | None = None
    cfg_weight: float | None = None
    temperature: float | None = None
    seed: int | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> SpeakingPreferences:
        return cls(
            language=row["language"],
            exaggeration=row["exaggeration"],
            cfg_weight=row["cfg_weight"],
            temperature=row["temperature"],
            seed=row["seed"],
        )

    @property
    def style(self) -> dict[str, float | int]:
        """The style preferences the member set (all but the language), by field name."""
        values = {
            "exaggeration": self.exaggeration,
            "cfg_weight": self.cfg_weight,
            "temperature": self.temperature,
            "seed": self.seed,
        }
        return {name: value for name, value in values.items() if value is not None}


PREFERENCES = frozenset(f.name for f in fields(SpeakingPreferences))


class SettingsRepository:
    def __init__(self, statements: Statements) -> None:
        self._sql = statements

    async def guild(self, guild_id: int) -> GuildSettings:
        row = await self._sql.fetch_one(
            "SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        return GuildSettings(guild_id) if row is None else GuildSettings.from_row(row)

    async def update_guild(self, guild_id: int, **changes: object) -> GuildSettings:
        """Set some options (None clears a nullable one); the others keep their values."""
        unknown = set(changes) - GUILD_OPTIONS
        if unknown:
            raise ValueError(f"unknown server settings: {sorted(unknown)}")
        await self._upsert("guild_settings", {"guild_id": guild_id}, changes)
        return await self.guild(guild_id)

    async def autoread_guilds(self) -> dict[int, int]:
        """Servers that read a text channel aloud: guild id → channel id."""
        rows = await self._sql.fetch_all(
            "SELECT guild_id, autoread_channel_id FROM guild_settings"
            " WHERE autoread_channel_id IS NOT NULL"
        )
        return {int(row[0]): int(row[1]) for row in rows}

    async def member_voice(self, guild_id: int, user_id: int) -> str | None:
        value = await self._sql.fetch_value(
            "SELECT default_voice_id FROM member_settings WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        return None if value is None else str(value)

    async def set_member_voice(self, guild_id: int, user_id: int, voice_id: str | None) -> None:
        await self._sql.execute(
            "INSERT INTO member_settings (guild_id, user_id, default_voice_id) VALUES (?, ?, ?)"
            " ON CONFLICT (guild_id, user_id) DO UPDATE SET"
            f" default_voice_id = excluded.default_voice_id, updated_at = {_NOW}",
            (guild_id, user_id, voice_id),
        )

    async def preferences(self, guild_id: int, user_id: int) -> SpeakingPreferences:
        row = await self._sql.fetch_one(
            "SELECT * FROM member_settings WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        return SpeakingPreferences() if row is None else SpeakingPreferences.from_row(row)

    async def update_preferences(
        self, guild_id: int, user_id: int, **changes: object
    ) -> SpeakingPreferences:
        """Set some of a member's preferences (None clears one); the others stay."""
        unknown = set(changes) - PREFERENCES
        if unknown:
            raise ValueError(f"unknown speaking preferences: {sorted(unknown)}")
        await self._upsert("member_settings", {"guild_id": guild_id, "user_id": user_id}, changes)
        return await self.preferences(guild_id, user_id)

    async def _upsert(self, table: str, keys: dict[str, int], changes: dict[str, object]) -> None:
        """Insert the row of ``keys`` with ``changes``, or change only those columns of it.
        Column names come from the callers' checked option sets, never from input."""
        if not changes:
            return
        columns = ", ".join([*keys, *changes])
        placeholders = ", ".join("?" for _ in range(len(keys) + len(changes)))
        updates = ", ".join(f"{name} = excluded.{name}" for name in changes)
        await self._sql.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}, updated_at = {_NOW}",
            (*keys.values(), *changes.values()),
        )

    async def move_defaults(self, old_voice_id: str, new_voice_id: str) -> None:
        """Servers and members whose default was one voice now default to another."""
        for table in ("member_settings", "guild_settings"):
            await self._sql.execute(
                f"UPDATE {table} SET default_voice_id = ? WHERE default_voice_id = ?",
                (new_voice_id, old_voice_id),
            )
