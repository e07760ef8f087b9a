"""A member's data seeded straight into the store and the data dir (no model work), and a
walk that finds any trace of it afterwards."""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from bot.store import Store
from bot.store.audit import AuditAction, Who
from bot.store.models import Consent, ConsentPath, JobState, Visibility, VoiceSource, VoiceStatus
from bot.store.voices import new_id

MODERATOR = 4_040_404
"""Another member, who hides the seeded member's voice (their entry about it stays theirs)."""
CONSENT = Consent("2026-01-02T03:04:05+00:00", ConsentPath.DISCORD)


@dataclass
class Seeded:
    user_id: int
    guild_id: int
    voice_ids: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    marker: str = ""
    """A string only this member's rows and files contain (voice names, sample names)."""
    speech_seed: int = 0
    """The seed saved in their speaking preferences there: only their row holds it."""


async def seed_member(
    store: Store,
    data_dir: Path,
    user_id: int,
    guild_id: int,
    marker: str,
    *,
    generations: int = 2,
) -> Seeded:
    """A voice with two samples (both with consent) and conditionals, history with cover
    and speech output files, a finished cover job with input and output files, a default
    voice and speaking preferences (language and style), audit entries (made by the
    member, and one by a moderator about their voice), and a hide the member made as a
    moderator of a preset."""
    seeded = Seeded(user_id, guild_id, marker=marker)
    voice = await store.voices.create(
        name=f"{marker}voice",
        owner_id=user_id,
        guild_id=guild_id,
        visibility=Visibility.PRIVATE,
        source=VoiceSource.UPLOAD,
        status=VoiceStatus.READY,
        consent=CONSENT,
    )
    seeded.voice_ids.append(voice.id)
    folder = data_dir / "voices" / voice.id
    for index in range(2):
        sample_id = new_id()
        path = folder / "samples" / f"{sample_id}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"RIFF {marker} sample {index} ".encode() * 2000)
        seeded.files.append(path)
        await store.voices.add_sample(
            voice_id=voice.id,
            path=path.relative_to(data_dir).as_posix(),
            original_name=f"{marker}-clip-{index}.wav",
            sha256=f"{index:064d}",
            duration_s=3.0 + index,
            sample_rate=24_000,
            sample_id=sample_id,
            consent=CONSENT,
        )
    conditionals = folder / "conds-chatterbox-original.pt"
    conditionals.write_bytes(f"conds of {marker}".encode())
    seeded.files.append(conditionals)
    await store.voices.set_conditionals(
        voice.id, conditionals.relative_to(data_dir).as_posix(), "chatterbox-original"
    )
    for index in range(generations):
        output = data_dir / "covers" / f"{marker}-{index}.mp3"
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(f"cover by {marker}".encode())
        seeded.files.append(output)
        await store.generations.record(
            kind="cover" if index % 2 else "speech",
            user_id=user_id,
            guild_id=guild_id,
            voice_id=voice.id,
            characters=None if index % 2 else 40,
            input_seconds=30.0 if index % 2 else None,
            audio_seconds=2.5,
            elapsed_seconds=1.5,
            method="rvc" if index % 2 else "chatterbox-original",
            output_path=output.relative_to(data_dir).as_posix(),
        )
    job_input = data_dir / "covers" / "inputs" / f"{marker}-song.mp3"
    job_output = data_dir / "covers" / f"{marker}-job.mp3"
    for path in (job_input, job_output):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"song of {marker}".encode())
        seeded.files.append(path)
    job = await store.jobs.create(
        kind="cover",
        user_id=user_id,
        guild_id=guild_id,
        channel_id=1,
        voice_id=voice.id,
        params={"song": f"{marker} song"},
        input_path=job_input.relative_to(data_dir).as_posix(),
    )
    await store.jobs.finish(
        job.id, JobState.DONE, output_path=job_output.relative_to(data_dir).as_posix()
    )
    await store.settings.set_member_voice(guild_id, user_id, voice.id)
    seeded.speech_seed = secrets.randbits(62)  # a value no other row holds
    await store.settings.update_preferences(
        guild_id, user_id, language="fr", exaggeration=0.7, temperature=0.9, seed=seeded.speech_seed
    )
    await seed_audit(store, seeded, voice.id)
    return seeded


async def seed_audit(store: Store, seeded: Seeded, voice_id: str) -> None:
    """The member's trail: they enrolled and renamed their voice and set their default; a
    moderator hid it; they hid a preset in their server (a ``voice_hides`` row too)."""
    voice = await store.voices.get(voice_id)
    assert voice is not None
    member, where, marker = Who.member(seeded.user_id), seeded.guild_id, seeded.marker
    await store.audit.record(AuditAction.ENROL, member, voice=voice, detail={"samples": 2})
    await store.audit.record(
        AuditAction.RENAME, member, voice=voice, detail={"from": f"{marker}old", "to": voice.name}
    )
    await store.audit.record(
        AuditAction.SETTINGS, member, guild_id=where, detail={"default_voice": voice.id}
    )
    hide = "INSERT INTO voice_hides (voice_id, guild_id, hidden_by, reason) VALUES (?, ?, ?, ?)"
    await store.db.execute(hide, (voice.id, where, MODERATOR, f"{marker} is too loud"))
    await store.audit.record(
        AuditAction.HIDE,
        Who.member(MODERATOR),
        voice=voice,
        guild_id=where,
        detail={"reason": f"{marker} is too loud"},
    )
    preset = await store.voices.create(
        name=f"preset-{new_id()}",
        owner_id=None,
        guild_id=None,
        visibility=Visibility.GLOBAL,
        source=VoiceSource.PRESET,
        status=VoiceStatus.READY,
    )
    await store.db.execute(hide, (preset.id, where, seeded.user_id, f"{marker} dislikes it"))
    await store.audit.record(
        AuditAction.HIDE,
        member,
        voice=preset,
        guild_id=where,
        detail={"reason": f"{marker} dislikes it"},
    )


def rows_mentioning(database: Path, values: set[object]) -> list[str]:
    """Every (table, column) whose cell holds one of ``values`` or contains a string one."""
    found = []
    connection = sqlite3.connect(database)
    try:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            cursor = connection.execute(f"SELECT * FROM {table}")
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, cell in zip(columns, row, strict=True):
                    for value in values:
                        hit = cell == value or (
                            isinstance(cell, str) and isinstance(value, str) and value in cell
                        )
                        if hit:
                            found.append(f"{table}.{column}={cell!r}")
    finally:
        connection.close()
    return found


def files_mentioning(data_dir: Path, needles: list[str]) -> list[Path]:
    """Files under the data dir whose path or content mentions any of ``needles``
    (the database files included: deleted rows must not linger in free pages or the WAL)."""
    found = []
    for path in data_dir.rglob("*"):
        if not path.is_file():
            continue
        content = path.read_bytes()
        for needle in needles:
            if needle in path.as_posix() or needle.encode() in content:
                found.append(path)
                break
    return found
