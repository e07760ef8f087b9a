"""The voice library's test fixtures (a store and a library in a temporary data directory,
archives over them) and helpers that make voices and look at what is on disk."""

from __future__ import annotations

import hashlib
import io
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.models import Consent, ConsentPath, Visibility, Voice, VoiceSource, VoiceStatus
from bot.store.voices import new_id
from bot.voices.archive import VoiceArchive
from bot.voices.files import VoiceLibrary


def fake_wav(seconds: float = 0.05, rate: int = 8000, seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = int(seconds * rate)
        out.writeframes(bytes((seed + i) % 256 for i in range(frames * 2)))
    return buffer.getvalue()


@pytest.fixture(name="data_dir")
def data_dir_fixture(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(name="store")
async def store_fixture(data_dir: Path) -> AsyncIterator[Store]:
    opened = await Store.open(data_dir / "parrot.db")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(name="library")
def library_fixture(store: Store, data_dir: Path) -> VoiceLibrary:
    return VoiceLibrary(store, data_dir)


@pytest.fixture(name="archives")
def archives_fixture(store: Store, library: VoiceLibrary) -> VoiceArchive:
    return VoiceArchive(store, library)


async def make_voice(
    store: Store,
    library: VoiceLibrary,
    name: str = "Alice",
    *,
    owner_id: int | None = 100,
    samples: int = 2,
    conditionals: bool = False,
) -> Voice:
    voice = await store.voices.create(
        name=name,
        owner_id=owner_id,
        guild_id=200,
        visibility=Visibility.GUILD,
        source=VoiceSource.UPLOAD,
        consent=Consent("2026-02-03T04:05:06Z", ConsentPath.DISCORD),
    )
    for index in range(samples):
        sample_id = new_id()
        path = library.folder(voice.id) / "samples" / f"{sample_id}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = fake_wav(seed=index)
        path.write_bytes(data)
        await store.voices.add_sample(
            voice_id=voice.id,
            path=library.relative(path),
            original_name=f"take {index}.mp3",
            sha256=hashlib.sha256(data).hexdigest(),
            duration_s=0.05,
            sample_rate=8000,
            sample_id=sample_id,
        )
    if conditionals:
        conds = library.folder(voice.id) / "conds.pt"
        conds.write_bytes(b"conditionals for " + voice.id.encode())
        await store.voices.set_conditionals(voice.id, library.relative(conds), "original")
        await store.voices.set_status(voice.id, VoiceStatus.READY)
    found = await store.voices.get(voice.id)
    assert found is not None
    return found


def voice_folders(library: VoiceLibrary) -> set[str]:
    if not library.voices_dir.exists():
        return set()
    return {p.name for p in library.voices_dir.iterdir()}


def all_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}
