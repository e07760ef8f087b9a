"""Cover jobs in SQLite: progress, final states, and what a restart finds."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import Store
from bot.store.models import JobState


async def test_a_job_advances_and_finishes(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "p.db") as store:
        job = await store.jobs.create(
            kind="cover",
            user_id=1,
            guild_id=2,
            channel_id=3,
            voice_id=None,
            params={"pitch": 2},
            input_path="jobs/x/song.mp3",
        )
        assert job.state is JobState.QUEUED and job.params == {"pitch": 2}
        await store.jobs.advance(job.id, "separating", 1.7)
        running = await store.jobs.get(job.id)
        assert running is not None
        assert (running.state, running.stage, running.progress) == (
            JobState.RUNNING,
            "separating",
            1.0,
        )
        assert await store.jobs.active_for_user(1, "cover") == 1
        await store.jobs.finish(job.id, JobState.DONE, output_path="outputs/x.mp3")
        done = await store.jobs.get(job.id)
        assert (
            done is not None and done.state is JobState.DONE and done.output_path == "outputs/x.mp3"
        )
        await store.jobs.advance(job.id, "late", 0.5)  # a finished job is never revived
        assert (await store.jobs.get(job.id)).state is JobState.DONE  # type: ignore[union-attr]
        assert await store.jobs.active_for_user(1, "cover") == 0
        with pytest.raises(ValueError, match="final"):
            await store.jobs.finish(job.id, JobState.RUNNING)


async def test_unfinished_jobs_are_listed_for_a_restart(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "p.db") as store:
        first = await store.jobs.create(
            kind="cover",
            user_id=1,
            guild_id=2,
            channel_id=3,
            voice_id=None,
            params={},
            input_path=None,
        )
        second = await store.jobs.create(
            kind="cover",
            user_id=1,
            guild_id=2,
            channel_id=3,
            voice_id=None,
            params={},
            input_path=None,
        )
        await store.jobs.finish(second.id, JobState.CANCELLED)
        assert [j.id for j in await store.jobs.unfinished("cover")] == [first.id]
        await store.jobs.finish(first.id, JobState.FAILED, error="restarted")
        assert await store.jobs.unfinished() == []
