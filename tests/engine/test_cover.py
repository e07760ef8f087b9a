"""Covers end to end: tiny random Demucs, zero-shot singing on random Chatterbox weights,
effects, mix, size-fitted Opus; caching between requests, priorities and cancellation."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from engine.audio import Audio, AudioFormat
from engine.cover import STAGES, CoverParams, CoverPipeline, CoverResult, VocalConverter
from engine.cover.marking import MARK_STRENGTHS
from engine.executor import CancelToken, GpuExecutor, Priority
from engine.separate import DemucsSeparator, SongTooLongError
from engine.separate.progress import Progress
from engine.watermark import WATERMARK_THRESHOLD
from tests.engine.cover_fixtures import (
    SingingKit,
    demucs_models_dir_fixture,  # noqa: F401
    singing_kit_fixture,  # noqa: F401
    single_thread,
    song_file_fixture,  # noqa: F401
)
from tests.engine.watermark import file_confidence

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Recording:
    """Wraps a real converter and notes how the pipeline called it (a test double)."""

    inner: VocalConverter
    calls: list[tuple[float, float]] = field(default_factory=list)

    @property
    def method(self) -> str:
        return self.inner.method

    @property
    def cache_key(self) -> str:
        return self.inner.cache_key

    @property
    def voice_pitch_hz(self) -> float | None:
        return self.inner.voice_pitch_hz

    def convert(
        self, vocals: Audio, semitones: float, token: CancelToken, progress: Progress
    ) -> Audio:
        self.calls.append((vocals.duration, semitones))
        return self.inner.convert(vocals, semitones, token, progress)


@dataclass
class Gate:
    """A converter for scheduling tests: each piece waits to be let through."""

    method: str = "gate"
    cache_key: str = "gate"
    voice_pitch_hz: float | None = None
    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    saw_cancel: threading.Event = field(default_factory=threading.Event)
    log: list[str] = field(default_factory=list)

    def convert(
        self, vocals: Audio, semitones: float, token: CancelToken, progress: Progress
    ) -> Audio:
        self.log.append("piece")
        self.started.set()
        while not self.release.wait(0.01):
            if token.cancelled:
                self.saw_cancel.set()
                token.raise_if_cancelled()
        return vocals


def count_demucs_calls(pipeline: CoverPipeline) -> list[int]:
    calls = [0]

    def hook(*_: object) -> None:
        calls[0] += 1

    for member in pipeline.stems.separator.model.models:
        member.register_forward_hook(hook)
    return calls


def probe_duration(path: Path) -> float:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout)


@pytest.fixture(scope="module")
def executor() -> Iterator[GpuExecutor]:
    worker = GpuExecutor("cpu", max_queued=16, idle_unload_s=3600, thread_setup=single_thread)
    yield worker
    worker.shutdown()


@pytest.fixture(scope="module")
def pipeline(
    executor: GpuExecutor, demucs_models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> CoverPipeline:
    separator = DemucsSeparator("htdemucs", models_dir=demucs_models_dir)
    return CoverPipeline(executor, separator, tmp_path_factory.mktemp("cache"))


@dataclass
class FirstCover:
    result: CoverResult
    progress: list[tuple[str, float]]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def first_cover(
    pipeline: CoverPipeline,
    singing_kit: SingingKit,
    song_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[FirstCover]:
    progress: list[tuple[str, float]] = []
    output = tmp_path_factory.mktemp("out") / "my cover"
    result = await pipeline.cover(
        song_file,
        singing_kit.singer("high"),
        output=output,
        progress=lambda stage, fraction: progress.append((stage, fraction)),
    )
    yield FirstCover(result, progress)


async def test_a_song_becomes_a_cover(first_cover: FirstCover) -> None:
    result = first_cover.result
    print(f"first cover timings: {result.timings}")
    assert result.path.name == "my cover.ogg" and result.path.is_file()
    assert result.format is AudioFormat.OGG_OPUS and result.method == "zero-shot"
    assert result.size_bytes == result.path.stat().st_size <= CoverParams().max_bytes
    assert result.bitrate_kbps == 160
    assert probe_duration(result.path) == pytest.approx(3.0, abs=0.05)
    assert result.duration_s == pytest.approx(3.0, abs=0.01)
    assert result.cache_hits == ()
    assert set(STAGES) | {"total"} == set(result.timings)


async def test_progress_goes_through_every_stage_in_order(first_cover: FirstCover) -> None:
    stages = list(dict.fromkeys(stage for stage, _ in first_cover.progress))
    assert stages == list(STAGES)
    for stage in STAGES:
        fractions = [f for s, f in first_cover.progress if s == stage]
        assert fractions == sorted(fractions) and fractions[-1] == 1.0


async def test_every_stage_leaves_a_cache_entry_with_metadata(
    first_cover: FirstCover, pipeline: CoverPipeline
) -> None:
    for cache in (
        pipeline.stems.cache,
        pipeline.caches.stage("vocals"),
        pipeline.caches.stage("effects"),
    ):
        (entry,) = list(cache.root.iterdir())
        metadata = json.loads((entry / "metadata.json").read_text())
        assert metadata["stage"] == cache.stage and metadata["files"]
    (cover_entry,) = list(pipeline.caches.stage("covers").root.iterdir())
    metadata = json.loads((cover_entry / "metadata.json").read_text())
    assert metadata["method"] == "zero-shot" and metadata["bitrate_kbps"] == 160
    assert (cover_entry / metadata["file"]).read_bytes() == first_cover.result.path.read_bytes()


async def test_the_same_request_is_served_from_the_cache(
    first_cover: FirstCover, pipeline: CoverPipeline, singing_kit: SingingKit, song_file: Path
) -> None:
    again = await pipeline.cover(song_file, singing_kit.singer("high"))
    assert again.cache_hits == ("cover",)
    assert again.path.read_bytes() == first_cover.result.path.read_bytes()
    assert again.timings["total"] < first_cover.result.timings["total"]


async def test_another_voice_in_another_key_reuses_the_stems(
    first_cover: FirstCover, pipeline: CoverPipeline, singing_kit: SingingKit, song_file: Path
) -> None:
    demucs_calls = count_demucs_calls(pipeline)
    singer = Recording(singing_kit.singer("low"))
    result = await pipeline.cover(song_file, singer, CoverParams(semitones=2))
    assert demucs_calls[0] == 0
    assert result.cache_hits == ("separate",)
    assert result.semitones == 2
    octaves = result.octaves
    assert [semitones for _, semitones in singer.calls] == [2 + 12 * octaves]
    assert sum(duration for duration, _ in singer.calls) == pytest.approx(3.0, abs=0.01)
    assert result.path != first_cover.result.path


async def test_speech_runs_between_conversion_pieces(
    first_cover: FirstCover,
    executor: GpuExecutor,
    pipeline: CoverPipeline,
    demucs_models_dir: Path,
    song_file: Path,
) -> None:
    pieces = CoverPipeline(
        executor,
        DemucsSeparator("htdemucs", models_dir=demucs_models_dir),
        pipeline.stems.cache.root.parent,  # the stems are cached already
        convert_piece_seconds=1.2,
    )
    gate = Gate()
    task = asyncio.create_task(pieces.cover(song_file, gate, CoverParams(reverb=0.0)))
    await asyncio.to_thread(gate.started.wait, 60)
    speech = asyncio.create_task(
        executor.run(lambda _: gate.log.append("speech"), priority=Priority.SPEECH)
    )
    await asyncio.sleep(0.05)
    gate.release.set()
    await asyncio.gather(task, speech)
    assert gate.log[:2] == ["piece", "speech"]
    assert gate.log.count("piece") >= 3


async def test_cancelling_the_cover_cancels_the_running_piece(
    first_cover: FirstCover, executor: GpuExecutor, pipeline: CoverPipeline, song_file: Path
) -> None:
    gate = Gate(cache_key="gate-cancel")
    task = asyncio.create_task(pipeline.cover(song_file, gate))
    await asyncio.to_thread(gate.started.wait, 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(gate.saw_cancel.wait, 10)
    assert gate.log == ["piece"]
    assert await executor.run(lambda _: "free", priority=Priority.SPEECH) == "free"


async def test_a_song_over_the_limit_is_refused_before_any_work(
    executor: GpuExecutor, demucs_models_dir: Path, song_file: Path, tmp_path: Path
) -> None:
    separator = DemucsSeparator("htdemucs", models_dir=demucs_models_dir)
    pipeline = CoverPipeline(executor, separator, tmp_path, max_song_seconds=2.0)
    with pytest.raises(SongTooLongError, match="covers are limited to 0:02"):
        await pipeline.cover(song_file, Gate())
    assert not separator.loaded


@dataclass
class NoMark:
    """Leaves audio as it is: the same cover without the watermark, to compare with."""

    key: str = "no-mark"
    strengths: list[float] = field(default_factory=list)

    async def mark(self, samples: np.ndarray, rate: int, *, strength: float = 1.0) -> np.ndarray:
        self.strengths.append(strength)
        return samples

    async def file_confidence(self, path: Path) -> float:
        return file_confidence(path)


async def test_the_posted_file_carries_the_watermark_in_each_format(
    first_cover: FirstCover,
    executor: GpuExecutor,
    pipeline: CoverPipeline,
    singing_kit: SingingKit,
    song_file: Path,
) -> None:
    mp3 = await pipeline.cover(
        song_file, singing_kit.singer("high"), CoverParams(output_format=AudioFormat.MP3)
    )
    no_mark = NoMark()
    unmarked_pipeline = CoverPipeline(
        executor, pipeline.stems.separator, pipeline.stems.cache.root.parent, marker=no_mark
    )
    unmarked = await unmarked_pipeline.cover(song_file, singing_kit.singer("high"))
    assert "separate" in unmarked.cache_hits and "effects" in unmarked.cache_hits  # only the mix
    found = {
        "opus": file_confidence(first_cover.result.path),
        "mp3": file_confidence(mp3.path),
        "unmarked opus": file_confidence(unmarked.path),
    }
    print(f"watermark confidence on the cover files: {found}")
    assert found["opus"] >= WATERMARK_THRESHOLD and found["mp3"] >= WATERMARK_THRESHOLD
    assert found["unmarked opus"] < WATERMARK_THRESHOLD
    # A file whose mark reads weak is marked again, more strongly, and the note says so.
    assert no_mark.strengths == list(MARK_STRENGTHS)
    assert any("watermark reads only" in note for note in unmarked.notes)
    assert first_cover.result.notes == ()
