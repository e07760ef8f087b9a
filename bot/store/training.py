"""SQL for training data: recordings uploaded for training, and the model a voice was
trained into. Rows go with their voice (``ON DELETE CASCADE``)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.store.database import Statements
from bot.store.models import Consent


@dataclass(frozen=True, slots=True)
class TrainingRecording:
    id: str
    voice_id: str
    path: str
    """Relative to the data dir."""
    original_name: str | None
    sha256: str
    """Of the checked 24 kHz version, as for enrolment samples: the duplicate check."""
    duration_s: float
    sample_rate: int
    consent: Consent | None
    created_at: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> TrainingRecording:
        return cls(
            id=row["id"],
            voice_id=row["voice_id"],
            path=row["path"],
            original_name=row["original_name"],
            sha256=row["sha256"],
            duration_s=float(row["duration_s"]),
            sample_rate=int(row["sample_rate"]),
            consent=Consent.from_columns(row["consent_at"], row["consent_via"]),
            created_at=row["created_at"],
        )


@dataclass(frozen=True, slots=True)
class TrainedModel:
    voice_id: str
    rvc_model: str
    """The attached copy (relative): the voice sings with it while its row points there."""
    epochs: int
    seconds_of_audio: float
    job_id: str | None
    trained_at: str


class TrainingRepository:
    def __init__(self, statements: Statements) -> None:
        self._sql = statements

    async def add_recording(
        self,
        *,
        recording_id: str,
        voice_id: str,
        path: str,
        original_name: str | None,
        sha256: str,
        duration_s: float,
        sample_rate: int,
        consent: Consent,
        created_at: str | None = None,
    ) -> None:
        """``created_at``: now when None (an imported recording keeps its own)."""
        await self._sql.execute(
            "INSERT INTO training_recordings (id, voice_id, path, original_name, sha256,"
            " duration_s, sample_rate, consent_at, consent_via, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " COALESCE(?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))",
            (
                recording_id,
                voice_id,
                path,
                original_name,
                sha256,
                duration_s,
                sample_rate,
                consent.at,
                consent.via,
                created_at,
            ),
        )

    async def recordings(self, voice_id: str) -> list[TrainingRecording]:
        rows = await self._sql.fetch_all(
            "SELECT * FROM training_recordings WHERE voice_id = ? ORDER BY created_at, id",
            (voice_id,),
        )
        return [TrainingRecording.from_row(row) for row in rows]

    async def recordings_of_owner(self, owner_id: int) -> list[TrainingRecording]:
        rows = await self._sql.fetch_all(
            "SELECT r.* FROM training_recordings r JOIN voices v ON v.id = r.voice_id"
            " WHERE v.owner_id = ? ORDER BY r.voice_id, r.created_at, r.id",
            (owner_id,),
        )
        return [TrainingRecording.from_row(row) for row in rows]

    async def set_trained_model(
        self,
        voice_id: str,
        *,
        rvc_model: str,
        epochs: int,
        seconds_of_audio: float,
        job_id: str | None,
        trained_at: str | None = None,
    ) -> None:
        """``trained_at``: now when None (an imported record keeps its own)."""
        await self._sql.execute(
            "INSERT INTO trained_models"
            " (voice_id, rvc_model, epochs, seconds_of_audio, job_id, trained_at)"
            " VALUES (?, ?, ?, ?, ?, COALESCE(?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
            " ON CONFLICT (voice_id) DO UPDATE SET"
            " rvc_model = excluded.rvc_model, epochs = excluded.epochs,"
            " seconds_of_audio = excluded.seconds_of_audio, job_id = excluded.job_id,"
            " trained_at = excluded.trained_at",
            (voice_id, rvc_model, epochs, seconds_of_audio, job_id, trained_at),
        )

    async def trained_model(self, voice_id: str) -> TrainedModel | None:
        row = await self._sql.fetch_one(
            "SELECT * FROM trained_models WHERE voice_id = ?", (voice_id,)
        )
        if row is None:
            return None
        return TrainedModel(
            voice_id=row["voice_id"],
            rvc_model=row["rvc_model"],
            epochs=int(row["epochs"]),
            seconds_of_audio=float(row["seconds_of_audio"]),
            job_id=row["job_id"],
            trained_at=row["trained_at"],
        )
