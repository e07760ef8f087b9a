"""Rows of the store as typed records."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class Visibility(StrEnum):
    PRIVATE = "private"
    """Only its owner may use it (server managers may hide or delete it)."""
    GUILD = "guild"
    """Shared with the server it was enrolled in."""
    GLOBAL = "global"
    """Available in every server (presets)."""


class VoiceSource(StrEnum):
    UPLOAD = "upload"
    PRESET = "preset"
    IMPORT = "import"
    CLI = "cli"


class ConsentPath(StrEnum):
    """How the person enrolling a voice or adding a sample asserted consent."""

    DISCORD = "discord"
    """``/voice enroll`` or ``/voice add-sample`` with ``consent`` set."""
    CLI = "cli"
    """``parrot voices enroll --consent``: the bot owner asserts it."""
    PRESET = "preset"
    """A preset the bot owner placed in the references folder."""
    IMPORT = "import"
    """A voice archive; its consent came with it."""


@dataclass(frozen=True, slots=True)
class Consent:
    at: str
    """ISO UTC time."""
    via: ConsentPath

    @classmethod
    def now(cls, via: ConsentPath) -> Consent:
        return cls(datetime.now(UTC).isoformat(timespec="seconds"), via)

    @classmethod
    def from_columns(cls, at: str | None, via: str | None) -> Consent | None:
        if at is None or via is None:
            return None
        return cls(at, ConsentPath(via))

    def describe(self) -> str:
        """e.g. ``2026-12-02 via /voice enroll``."""
        return f"{self.at[:10]} via {CONSENT_PATH_NAMES[self.via]}"


CONSENT_PATH_NAMES = {
    ConsentPath.DISCORD: "Discord",
    ConsentPath.CLI: "the parrot CLI (--consent)",
    ConsentPath.PRESET: "the bot owner (preset)",
    ConsentPath.IMPORT: "a voice archive",
}


class VoiceStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"
    RETIRED = "retired"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Voice:
    id: str
    name: str
    owner_id: int | None
    guild_id: int | None
    visibility: Visibility
    source: VoiceSource
    status: VoiceStatus
    status_detail: str | None
    tts_model: str | None
    conditionals: str | None
    rvc_model: str | None
    rvc_index: str | None
    consent_at: str | None
    created_at: str
    updated_at: str
    consent_via: ConsentPath | None = None

    @property
    def consent(self) -> Consent | None:
        return Consent.from_columns(self.consent_at, self.consent_via)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Voice:
        return cls(
            id=row["id"],
            name=row["name"],
            owner_id=row["owner_id"],
            guild_id=row["guild_id"],
            visibility=Visibility(row["visibility"]),
            source=VoiceSource(row["source"]),
            status=VoiceStatus(row["status"]),
            status_detail=row["status_detail"],
            tts_model=row["tts_model"],
            conditionals=row["conditionals"],
            rvc_model=row["rvc_model"],
            rvc_index=row["rvc_index"],
            consent_at=row["consent_at"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            consent_via=ConsentPath(row["consent_via"]) if row["consent_via"] else None,
        )


@dataclass(frozen=True, slots=True)
class VoiceSample:
    id: str
    voice_id: str
    path: str
    original_name: str | None
    sha256: str
    duration_s: float
    sample_rate: int
    created_at: str
    consent: Consent | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> VoiceSample:
        return cls(
            id=row["id"],
            voice_id=row["voice_id"],
            path=row["path"],
            original_name=row["original_name"],
            sha256=row["sha256"],
            duration_s=float(row["duration_s"]),
            sample_rate=int(row["sample_rate"]),
            created_at=row["created_at"],
            consent=Consent.from_columns(row["consent_at"], row["consent_via"]),
        )
