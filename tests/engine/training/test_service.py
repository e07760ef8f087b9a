"""``Engine.train`` end to end on the CPU: random content models, tiny pretrained weights."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from engine.config import EngineConfig
from engine.convert.describe import describe_voice_files
from engine.engine import Engine
from engine.executor import GpuExecutor
from engine.training.checkpoints import checkpoint_path, checkpoint_set, place_checkpoint
from engine.training.errors import (
    CpuTrainingNotAllowedError,
    NotEnoughAudioError,
    PretrainedWeightsMissingError,
)
from engine.training.params import TrainingParams
from engine.training.progress import TrainingProgress
from engine.training.worker_models import WorkerCalls, run_on_thread
from tests.checkpoints.rvc import models_dir
from tests.checkpoints.rvc_pretrained import rvc_pretrained
from tests.engine.speech import espeak

pytestmark = pytest.mark.asyncio(loop_scope="module")

FAST = TrainingParams(
    epochs=2, batch_size=2, save_every_epochs=1, allow_cpu=True, min_speech_seconds=2.0
)


def training_models_dir(root: Path) -> Path:
    """Random ContentVec and RMVPE, and the tiny pretrained files in the hub's layout."""
    folder = models_dir(root)
    layout = folder / "rvc-pretrained" / "pretrained_v2"
    layout.mkdir(parents=True)
    for path in rvc_pretrained(tiny=True):
        (layout / path.name).symlink_to(path)
    return folder


@pytest.fixture(scope="module", name="clip")
def clip_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return espeak(tmp_path_factory.mktemp("clip") / "voice.wav")


@pytest_asyncio.fixture(scope="module", loop_scope="module", name="engine")
async def engine_fixture(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Engine]:
    root = tmp_path_factory.mktemp("training-engine")
    config = EngineConfig(
        data_dir=root / "data",
        device="cpu",
        models_dir=training_models_dir(root / "models"),
        torch_threads=1,
    )
    parrot_engine = Engine(config)
    yield parrot_engine
    await parrot_engine.shutdown()


@pytest.fixture(name="empty_hub_cache")
def empty_hub_cache_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))


async def test_a_cancelled_job_leaves_no_model_and_resumes_to_the_end(
    engine: Engine, clip: Path, tmp_path: Path
) -> None:
    work, out = tmp_path / "work", tmp_path / "out"
    first_epoch = asyncio.Event()

    def watch(progress: TrainingProgress) -> None:
        if progress.stage == "training" and progress.epoch >= 1:
            first_epoch.set()  # its checkpoint is written before this report

    long = dataclasses.replace(FAST, epochs=500)
    task = asyncio.create_task(engine.train([clip], work, out, long, progress=watch))
    await asyncio.wait_for(first_epoch.wait(), timeout=120)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not out.exists() or not list(out.iterdir())
    kept = work / "checkpoints"
    assert checkpoint_path(kept).is_file() and checkpoint_set(kept) is not None

    # It resumes from the checkpoint alone in a new work folder (as a Ray replica gets it:
    # no prepared training set there, only the checkpoint and the name of its set).
    work = tmp_path / "elsewhere"
    place_checkpoint(work / "checkpoints", checkpoint_path(kept), checkpoint_set(kept) or "")
    seen: list[TrainingProgress] = []
    result = await engine.train([clip], work, out, FAST, name="ana", progress=seen.append)
    assert (result.model, result.index) == (out / "ana.pth", out / "ana.index")
    assert sorted(path.name for path in out.iterdir()) == ["ana.index", "ana.pth"]
    info = describe_voice_files(result.model, result.index)
    assert (info.info, result.epochs) == ("2epoch", 2)
    assert 2.0 < result.seconds_of_audio < 10.0
    assert not (work / "checkpoints").exists()
    stages = [progress.stage for progress in seen]
    assert stages[0] == "preparing" and stages[-1] == "exporting"
    assert stages.index("training") < stages.index("indexing") < stages.index("exporting")
    training = [progress for progress in seen if progress.stage == "training"]
    assert training[0].epoch >= 1  # it went on from the checkpoint, not from scratch
    assert training[-1].loss is not None
    fractions = [progress.fraction for progress in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


async def test_refusals_come_first_with_their_messages(
    engine: Engine, clip: Path, tmp_path: Path, empty_hub_cache: None
) -> None:
    not_allowed = TrainingParams(allow_cpu=False)
    with pytest.raises(CpuTrainingNotAllowedError, match="PARROT_ALLOW_CPU_TRAINING"):
        await engine.check_training_available(not_allowed)
    with pytest.raises(CpuTrainingNotAllowedError):
        await engine.train([clip], tmp_path / "w", tmp_path / "o", not_allowed)
    too_little = TrainingParams(allow_cpu=True, min_speech_seconds=60.0)
    with pytest.raises(NotEnoughAudioError, match="at least 60 s"):
        await engine.train([clip], tmp_path / "w", tmp_path / "o", too_little)
    bare = Engine(EngineConfig(data_dir=tmp_path / "data", device="cpu", models_dir=tmp_path))
    try:
        with pytest.raises(PretrainedWeightsMissingError, match="parrot models download"):
            await bare.check_training_available(FAST)
        with pytest.raises(PretrainedWeightsMissingError):
            await bare.train([clip], tmp_path / "w", tmp_path / "o", FAST)
    finally:
        await bare.shutdown()
    assert not (tmp_path / "w").exists() and not (tmp_path / "o").exists()


async def test_preparation_model_calls_are_jobs_and_a_cancel_waits_for_the_thread() -> None:
    executor = GpuExecutor("cpu", max_queued=4)
    calls = WorkerCalls(executor, "prepare")
    workers: list[str] = []
    stopped = threading.Event()
    first_call = asyncio.Event()
    loop = asyncio.get_running_loop()

    def prepare() -> None:
        try:
            while True:
                calls.check()
                workers.append(calls.call(lambda: threading.current_thread().name))
                loop.call_soon_threadsafe(first_call.set)
                time.sleep(0.01)
        finally:
            stopped.set()

    try:
        task = asyncio.create_task(run_on_thread(calls, prepare))
        await asyncio.wait_for(first_call.wait(), timeout=30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert stopped.is_set()  # the thread had finished before the cancel returned
        assert set(workers) == {"parrot-gpu-cpu"}
    finally:
        executor.shutdown()
