"""Several repositories writing in one transaction: all of their rows land, or none."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.models import Visibility, VoiceStatus
from bot.store.presets import PresetStatus
from bot.store.unit_of_work import Repositories
from bot.store.voices import VoiceNameTakenError
from engine.errors import ParrotError


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "parrot.db")
    try:
        yield opened
    finally:
        await opened.close()


async def add_sample(work: Repositories, voice_id: str, sample_id: str) -> None:
    await work.voices.add_sample(
        voice_id=voice_id,
        path=f"voices/{voice_id}/samples/{sample_id}.wav",
        original_name="take.wav",
        sha256="0" * 64,
        duration_s=4.0,
        sample_rate=24000,
        sample_id=sample_id,
    )


async def test_writes_of_a_unit_of_work_land_together(store: Store) -> None:
    async with store.unit_of_work() as work:
        voice = await work.voices.create(name="Alice", owner_id=1, guild_id=2, voice_id="v1")
        await add_sample(work, voice.id, "s1")
        await add_sample(work, voice.id, "s2")
        # Reads inside the unit see its own writes.
        assert [s.id for s in await work.voices.samples(voice.id)] == ["s1", "s2"]
    assert await store.voices.get("v1") is not None
    assert len(await store.voices.samples("v1")) == 2


async def test_an_enrolment_whose_second_insert_fails_leaves_no_row(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        async with store.unit_of_work() as work:
            voice = await work.voices.create(name="Alice", owner_id=1, guild_id=2)
            await add_sample(work, voice.id, "s1")
            # The same sample id again: the primary key refuses it.
            await add_sample(work, voice.id, "s1")
    assert await store.voices.count() == 0
    assert await store.db.fetch_value("SELECT COUNT(*) FROM voice_samples") == 0


async def test_a_name_clash_inside_a_unit_is_the_stores_error_and_undoes_it(
    store: Store,
) -> None:
    await store.voices.create(name="Alice", owner_id=1, guild_id=2)
    with pytest.raises(VoiceNameTakenError, match="'alice' already exists") as raised:
        async with store.unit_of_work() as work:
            await work.voices.create(name="Bob", owner_id=1, guild_id=2)
            await work.voices.create(name="alice", owner_id=1, guild_id=2)
    assert isinstance(raised.value, ParrotError) and isinstance(raised.value, ValueError)
    assert raised.value.for_member() == "A voice named 'alice' already exists."
    assert [v.name for v in await store.voices.list()] == ["Alice"]


async def test_a_preset_swap_moves_defaults_and_history_atomically(store: Store) -> None:
    old = await store.voices.create(
        name="Narrator", owner_id=None, guild_id=None, visibility=Visibility.GLOBAL
    )
    new = await store.voices.create(name="preset-update-1", owner_id=None, guild_id=None)
    await store.settings.set_member_voice(1, 2, old.id)
    await store.settings.update_guild(1, default_voice_id=old.id)
    await store.generations.record(kind="speech", user_id=2, guild_id=1, voice_id=old.id)

    async with store.unit_of_work() as work:
        await work.settings.move_defaults(old.id, new.id)
        await work.generations.move_to_voice(old.id, new.id)
        await work.voices.delete(old.id)
        await work.voices.make_global(new.id, "Narrator")
        await work.presets.save(
            name="Narrator", source="narrator.wav", voice_id=new.id, sha256="h",
            status=PresetStatus.READY,
        )  # fmt: skip

    assert await store.voices.get(old.id) is None
    swapped = await store.voices.get(new.id)
    assert swapped is not None and swapped.name == "Narrator"
    assert swapped.visibility is Visibility.GLOBAL
    assert await store.settings.member_voice(1, 2) == new.id
    assert (await store.settings.guild(1)).default_voice_id == new.id
    (generation,) = await store.generations.for_user(2)
    assert generation.voice_id == new.id
    preset = await store.presets.get("Narrator")
    assert preset is not None and preset.voice_id == new.id


async def test_a_failed_swap_changes_nothing(store: Store) -> None:
    old = await store.voices.create(name="Narrator", owner_id=None, guild_id=None)
    new = await store.voices.create(name="preset-update-1", owner_id=None, guild_id=None)
    await store.settings.set_member_voice(1, 2, old.id)
    with pytest.raises(RuntimeError, match="disk full"):
        async with store.unit_of_work() as work:
            await work.settings.move_defaults(old.id, new.id)
            await work.voices.delete(old.id)
            raise RuntimeError("disk full")
    assert await store.voices.get(old.id) is not None
    assert await store.settings.member_voice(1, 2) == old.id


async def test_the_stores_own_repositories_refuse_to_run_inside_a_unit(store: Store) -> None:
    """They would wait forever on the lock the unit holds; they fail loudly instead."""
    with pytest.raises(RuntimeError, match="unit of work"):
        async with store.unit_of_work() as work:
            await work.voices.create(name="Alice", owner_id=1, guild_id=2)
            await store.voices.count()
    assert await store.voices.count() == 0
    await store.voices.create(name="after", owner_id=1, guild_id=2)  # the lock was released


async def test_a_nested_atomic_block_is_a_savepoint(store: Store) -> None:
    """Repository methods that open their own atomic block (delete_member and the like)
    undo only their own statements when they fail inside a unit of work."""
    insert = "INSERT INTO voices (id, name, owner_id) VALUES (?, ?, 1)"
    async with store.db.atomic() as transaction:
        await transaction.execute(insert, ("k", "kept"))
        with pytest.raises(sqlite3.IntegrityError):
            async with transaction.atomic() as inner:
                await inner.execute("UPDATE voices SET status = 'failed' WHERE id = 'k'")
                await inner.execute(insert, ("c", "KEPT"))  # one name per owner
    voice = await store.voices.get("k")
    assert voice is not None and voice.status is VoiceStatus.PENDING
    assert await store.voices.count() == 1


async def test_writers_cancelled_at_any_point_leave_no_transaction_open(store: Store) -> None:
    """aiosqlite runs BEGIN/COMMIT on its thread even when the awaiting task is cancelled;
    the lock must not be let go with a transaction still open."""
    for pause in range(8):
        writer = asyncio.create_task(
            store.db.execute("UPDATE jobs SET progress = progress WHERE 0")
        )
        for _ in range(pause):
            await asyncio.sleep(0)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        await store.db.execute("UPDATE jobs SET progress = progress WHERE 0")
