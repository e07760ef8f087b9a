"""The store: voice and job repositories, transactions, integrity, and concurrent writers."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.models import Consent, ConsentPath, Visibility, VoiceSource, VoiceStatus
from bot.store.voices import VoiceNameTakenError, new_id


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "parrot.db")
    try:
        yield opened
    finally:
        await opened.close()


async def add_sample(store: Store, voice_id: str, name: str = "clip.wav") -> str:
    sample = await store.voices.add_sample(
        voice_id=voice_id,
        path=f"voices/{voice_id}/samples/{name}",
        original_name=name,
        sha256="0" * 64,
        duration_s=4.5,
        sample_rate=24000,
    )
    return sample.id


def test_new_ids_are_folder_safe_and_distinct() -> None:
    ids = {new_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 16 and i.isalnum() and i == i.lower() for i in ids)


# voices ---------------------------------------------------------------------------------
async def test_create_and_get(store: Store) -> None:
    voice = await store.voices.create(
        name="Alice",
        owner_id=111,
        guild_id=222,
        visibility=Visibility.GUILD,
        source=VoiceSource.CLI,
        consent=Consent("2026-01-01T00:00:00Z", ConsentPath.CLI),
    )
    assert voice.name == "Alice"
    assert voice.owner_id == 111
    assert voice.guild_id == 222
    assert voice.visibility is Visibility.GUILD
    assert voice.source is VoiceSource.CLI
    assert voice.status is VoiceStatus.PENDING
    assert voice.status_detail is None
    assert voice.conditionals is None
    assert voice.consent == Consent("2026-01-01T00:00:00Z", ConsentPath.CLI)
    assert voice.created_at.endswith("Z")
    assert await store.voices.get(voice.id) == voice
    assert await store.voices.get("missing") is None


async def test_create_with_explicit_id_and_defaults(store: Store) -> None:
    voice = await store.voices.create(
        name="Preset", owner_id=None, guild_id=None, voice_id="preset01", status=VoiceStatus.READY
    )
    assert voice.id == "preset01"
    assert voice.visibility is Visibility.PRIVATE
    assert voice.source is VoiceSource.UPLOAD
    assert voice.status is VoiceStatus.READY


async def test_duplicate_id_is_not_reported_as_a_taken_name(store: Store) -> None:
    await store.voices.create(name="One", owner_id=1, guild_id=1, voice_id="same")
    with pytest.raises(sqlite3.IntegrityError):
        await store.voices.create(name="Two", owner_id=1, guild_id=1, voice_id="same")
    assert await store.voices.count() == 1


async def test_find_by_id_or_name_any_case(store: Store) -> None:
    alice = await store.voices.create(name="Alice", owner_id=1, guild_id=9)
    other = await store.voices.create(name="alice", owner_id=2, guild_id=9)
    await store.voices.create(name="Bob", owner_id=1, guild_id=9)

    assert [v.id for v in await store.voices.find(alice.id)] == [alice.id]
    assert {v.id for v in await store.voices.find("ALICE")} == {alice.id, other.id}
    assert await store.voices.find("nobody") == []


async def test_duplicate_name_per_owner_is_refused_case_insensitively(store: Store) -> None:
    await store.voices.create(name="Narrator", owner_id=5, guild_id=1)
    for clash in ("Narrator", "narrator", "NARRATOR"):
        with pytest.raises(VoiceNameTakenError, match=clash):
            await store.voices.create(name=clash, owner_id=5, guild_id=2)
    # Another owner may use the name; so may a preset (no owner).
    await store.voices.create(name="narrator", owner_id=6, guild_id=1)
    await store.voices.create(name="Narrator", owner_id=None, guild_id=None)
    with pytest.raises(VoiceNameTakenError):
        await store.voices.create(name="NARRATOR", owner_id=None, guild_id=None)
    assert await store.voices.count() == 3


async def test_list_filters_and_sorts_by_name(store: Store) -> None:
    await store.voices.create(name="charlie", owner_id=1, guild_id=10)
    await store.voices.create(name="Alpha", owner_id=1, guild_id=20)
    await store.voices.create(name="bravo", owner_id=2, guild_id=10)

    assert [v.name for v in await store.voices.list()] == ["Alpha", "bravo", "charlie"]
    assert [v.name for v in await store.voices.list(owner_id=1)] == ["Alpha", "charlie"]
    assert [v.name for v in await store.voices.list(guild_id=10)] == ["bravo", "charlie"]
    assert [v.name for v in await store.voices.list(owner_id=1, guild_id=10)] == ["charlie"]
    assert await store.voices.list(owner_id=99) == []


async def test_count_by_status(store: Store) -> None:
    assert await store.voices.count() == 0
    a = await store.voices.create(name="a", owner_id=1, guild_id=1)
    await store.voices.create(name="b", owner_id=1, guild_id=1)
    await store.voices.set_status(a.id, VoiceStatus.READY)
    assert await store.voices.count() == 2
    assert await store.voices.count(status=VoiceStatus.READY) == 1
    assert await store.voices.count(status=VoiceStatus.PENDING) == 1
    assert await store.voices.count(status=VoiceStatus.FAILED) == 0


async def test_set_status_and_detail(store: Store) -> None:
    voice = await store.voices.create(name="v", owner_id=1, guild_id=1)
    await store.voices.set_status(voice.id, VoiceStatus.FAILED, "too quiet")
    updated = await store.voices.get(voice.id)
    assert updated is not None
    assert updated.status is VoiceStatus.FAILED
    assert updated.status_detail == "too quiet"
    assert updated.updated_at >= voice.updated_at

    await store.voices.set_status(voice.id, VoiceStatus.READY)
    updated = await store.voices.get(voice.id)
    assert updated is not None
    assert updated.status is VoiceStatus.READY
    assert updated.status_detail is None


async def test_invalid_status_is_refused_by_the_schema(store: Store) -> None:
    voice = await store.voices.create(name="v", owner_id=1, guild_id=1)
    with pytest.raises(sqlite3.IntegrityError):
        await store.voices.set_status(voice.id, "bogus")  # type: ignore[arg-type]


async def test_set_conditionals(store: Store) -> None:
    voice = await store.voices.create(name="v", owner_id=1, guild_id=1)
    await store.voices.set_conditionals(voice.id, f"voices/{voice.id}/conds.pt", "turbo")
    updated = await store.voices.get(voice.id)
    assert updated is not None
    assert updated.conditionals == f"voices/{voice.id}/conds.pt"
    assert updated.tts_model == "turbo"


async def test_delete_cascades_to_samples(store: Store) -> None:
    voice = await store.voices.create(name="v", owner_id=1, guild_id=1)
    keep = await store.voices.create(name="w", owner_id=1, guild_id=1)
    await add_sample(store, voice.id, "a.wav")
    await add_sample(store, voice.id, "b.wav")
    await add_sample(store, keep.id, "c.wav")
    assert len(await store.voices.samples(voice.id)) == 2

    assert await store.voices.delete(voice.id) is True
    assert await store.voices.get(voice.id) is None
    assert await store.voices.samples(voice.id) == []
    assert await store.db.fetch_value("SELECT COUNT(*) FROM voice_samples") == 1
    assert await store.voices.delete(voice.id) is False
    assert await store.voices.all_ids() == {keep.id}


async def test_samples_round_trip(store: Store) -> None:
    voice = await store.voices.create(name="v", owner_id=1, guild_id=1)
    sample = await store.voices.add_sample(
        voice_id=voice.id,
        path="voices/x/samples/s.wav",
        original_name=None,
        sha256="ab" * 32,
        duration_s=3,
        sample_rate=44100,
        sample_id="fixed",
    )
    assert sample.id == "fixed"
    assert sample.voice_id == voice.id
    assert sample.original_name is None
    assert sample.duration_s == 3.0
    assert isinstance(sample.duration_s, float)
    assert sample.sample_rate == 44100
    assert await store.voices.samples(voice.id) == [sample]


async def test_sample_for_a_missing_voice_is_refused(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await add_sample(store, "no-such-voice")


async def test_deleting_a_voice_clears_references_to_it(store: Store) -> None:
    voice = await store.voices.create(name="v", owner_id=1, guild_id=1)
    await store.db.execute(
        "INSERT INTO guild_settings (guild_id, default_voice_id) VALUES (?, ?)", (1, voice.id)
    )
    await store.db.execute(
        "INSERT INTO member_settings (guild_id, user_id, default_voice_id) VALUES (1, 2, ?)",
        (voice.id,),
    )
    await store.voices.delete(voice.id)
    assert await store.db.fetch_value("SELECT default_voice_id FROM guild_settings") is None
    assert await store.db.fetch_value("SELECT default_voice_id FROM member_settings") is None


# the database -----------------------------------------------------------------------------
async def test_transaction_commits(store: Store) -> None:
    async with store.db.transaction() as connection:
        await connection.execute("INSERT INTO voices (id, name, owner_id) VALUES ('t1', 'one', 1)")
        await connection.execute("INSERT INTO voices (id, name, owner_id) VALUES ('t2', 'two', 1)")
    assert await store.voices.all_ids() == {"t1", "t2"}


async def test_transaction_rolls_back_on_exception(store: Store) -> None:
    await store.voices.create(name="before", owner_id=1, guild_id=1)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with store.db.transaction() as connection:
            await connection.execute(
                "INSERT INTO voices (id, name, owner_id) VALUES ('t1', 'one', 1)"
            )
            await connection.execute("DELETE FROM voices WHERE name = 'before'")
            raise Boom
    assert [v.name for v in await store.voices.list()] == ["before"]

    # A failing statement inside the block also rolls back what came before it.
    with pytest.raises(sqlite3.IntegrityError):
        async with store.db.transaction() as connection:
            await connection.execute(
                "INSERT INTO voices (id, name, owner_id) VALUES ('t2', 'two', 1)"
            )
            await connection.execute(
                "INSERT INTO voices (id, name, owner_id) VALUES ('t3', 'BEFORE', 1)"
            )
    assert [v.name for v in await store.voices.list()] == ["before"]

    # The connection is usable afterwards.
    await store.voices.create(name="after", owner_id=1, guild_id=1)
    assert await store.voices.count() == 2


async def test_execute_returns_rows_changed(store: Store) -> None:
    for name in "abc":
        await store.voices.create(name=name, owner_id=1, guild_id=1)
    assert await store.db.execute("UPDATE voices SET status_detail = 'x'") == 3
    assert await store.db.execute("DELETE FROM voices WHERE name = 'zzz'") == 0


async def test_fetch_helpers(store: Store) -> None:
    assert await store.db.fetch_one("SELECT * FROM voices") is None
    assert await store.db.fetch_value("SELECT id FROM voices") is None
    assert await store.db.fetch_all("SELECT * FROM voices") == []
    assert await store.db.fetch_value("SELECT 41 + 1") == 42


async def test_integrity_check_on_a_healthy_database(store: Store) -> None:
    voice = await store.voices.create(name="v", owner_id=1, guild_id=1)
    await add_sample(store, voice.id)
    assert await store.db.integrity_check() == []


async def test_integrity_check_reports_foreign_key_violations(store: Store, tmp_path: Path) -> None:
    # A second, plain connection (foreign keys off by default) writes an orphan sample.
    raw = sqlite3.connect(tmp_path / "parrot.db")
    try:
        raw.execute(
            "INSERT INTO voice_samples (id, voice_id, path, sha256, duration_s, sample_rate)"
            " VALUES ('s', 'ghost', 'p', 'h', 1, 1)"
        )
        raw.commit()
    finally:
        raw.close()
    problems = await store.db.integrity_check()
    assert len(problems) == 1
    assert "voice_samples" in problems[0]


async def test_concurrent_creates_all_land(store: Store) -> None:
    voices = await asyncio.gather(
        *(store.voices.create(name=f"voice {i}", owner_id=1, guild_id=1) for i in range(50))
    )
    assert len({v.id for v in voices}) == 50
    assert await store.voices.count() == 50
    assert await store.db.integrity_check() == []


async def test_concurrent_transactions_do_not_interleave(store: Store) -> None:
    order: list[str] = []

    async def writer(tag: str) -> None:
        async with store.db.transaction() as connection:
            order.append(f"{tag}-begin")
            await connection.execute(
                "INSERT INTO voices (id, name, owner_id) VALUES (?, ?, 1)", (f"{tag}1", f"{tag}1")
            )
            await asyncio.sleep(0)  # give the other writers every chance to cut in
            await connection.execute(
                "INSERT INTO voices (id, name, owner_id) VALUES (?, ?, 1)", (f"{tag}2", f"{tag}2")
            )
            order.append(f"{tag}-end")

    async def failing_writer() -> None:
        async with store.db.transaction() as connection:
            await connection.execute(
                "INSERT INTO voices (id, name, owner_id) VALUES ('x1', 'x1', 1)"
            )
            await asyncio.sleep(0)
            raise RuntimeError("abort")

    tags = [f"w{i}" for i in range(10)]
    results = await asyncio.gather(
        *(writer(tag) for tag in tags[:5]),
        failing_writer(),
        *(writer(tag) for tag in tags[5:]),
        return_exceptions=True,
    )
    assert [type(r) for r in results].count(RuntimeError) == 1
    # Every begin is immediately followed by its own end.
    for begin, end in zip(order[::2], order[1::2], strict=True):
        assert begin.removesuffix("-begin") == end.removesuffix("-end")
    ids = await store.voices.all_ids()
    assert ids == {f"{tag}{n}" for tag in tags for n in (1, 2)}


async def test_closed_store_refuses_work(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "closed.db")
    async with store:
        pass
    with pytest.raises(ValueError):
        await store.voices.count()
