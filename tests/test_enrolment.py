"""VoiceEnroller's atomicity, with an engine stand-in (no model): files first, then all the
rows in one transaction, and nothing left behind when any step fails."""

from __future__ import annotations

import sqlite3
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from bot.store import Store
from bot.store.audit import Who
from bot.store.models import Consent, ConsentPath, Visibility, VoiceSource, VoiceStatus
from bot.store.voices import VoiceRepository
from bot.voices.enrolment import VoiceEnroller
from bot.voices.files import VoiceLibrary
from engine.engine import Engine, SampleLimits
from tests.enrolment_support import StandInEngine


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "data" / "parrot.db")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def library(store: Store, tmp_path: Path) -> VoiceLibrary:
    return VoiceLibrary(store, tmp_path / "data")


@pytest.fixture
def clips(tmp_path: Path) -> list[Path]:
    paths = [tmp_path / "one.wav", tmp_path / "two.wav"]
    for index, path in enumerate(paths):
        with wave.open(str(path), "wb") as out:  # add_sample reads the earlier ones back
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(24000)
            out.writeframes(bytes((index + i) % 256 for i in range(4800)))
    return paths


def enroller(store: Store, library: VoiceLibrary, engine: StandInEngine) -> VoiceEnroller:
    return VoiceEnroller(store, library, cast(Engine, engine), SampleLimits())


async def enroll(target: VoiceEnroller, clips: list[Path]) -> Any:
    return await target.enroll(
        "Alice",
        clips,
        owner_id=1,
        guild_id=2,
        visibility=Visibility.PRIVATE,
        source=VoiceSource.UPLOAD,
        consent=Consent.now(ConsentPath.DISCORD),
        who=Who.cli(),
    )


def voice_folders(library: VoiceLibrary) -> list[Path]:
    return list(library.voices_dir.iterdir()) if library.voices_dir.exists() else []


async def test_enrolment_writes_the_voice_and_its_samples(
    store: Store, library: VoiceLibrary, clips: list[Path]
) -> None:
    voice, prepared = await enroll(enroller(store, library, StandInEngine()), clips)
    assert voice.status is VoiceStatus.READY
    assert voice.tts_model == "stand-in"
    assert voice.conditionals == f"voices/{voice.id}/conds-stand-in.pt"
    samples = await store.voices.samples(voice.id)
    assert sorted(s.id for s in samples) == sorted(p.path.stem for p in prepared)
    assert sorted(s.original_name or "" for s in samples) == ["one.wav", "two.wav"]


async def test_an_enrolment_whose_second_insert_fails_leaves_no_row_and_no_file(
    store: Store, library: VoiceLibrary, clips: list[Path]
) -> None:
    # Both samples get the same id: the voice row and the first sample row are written,
    # the second sample's insert fails, and the transaction takes the first two back.
    stand_in = StandInEngine(reuse_first_sample_path=True)
    with pytest.raises(sqlite3.IntegrityError):
        await enroll(enroller(store, library, stand_in), clips)
    assert await store.voices.count() == 0
    assert await store.db.fetch_value("SELECT COUNT(*) FROM voice_samples") == 0
    assert voice_folders(library) == []


async def test_adding_a_sample_is_undone_when_the_voice_update_fails(
    store: Store, library: VoiceLibrary, clips: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = enroller(store, library, StandInEngine())
    voice, _ = await enroll(target, clips[:1])

    async def refuse(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(VoiceRepository, "mark_ready", refuse)
    with pytest.raises(sqlite3.OperationalError):
        await target.add_sample(
            voice,
            clips[1],
            original_name="two.wav",
            consent=Consent.now(ConsentPath.DISCORD),
            who=Who.cli(),
        )
    samples = await store.voices.samples(voice.id)
    assert len(samples) == 1
    on_disk = sorted(p.stem for p in (library.folder(voice.id) / "samples").iterdir())
    assert on_disk == [samples[0].id]
