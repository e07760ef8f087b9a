"""Training in tests: the models a real training needs (random ContentVec and RMVPE, tiny
random "pretrained" RVC weights), a voice whose sample is a given clip, ``/voice train``
with its options, and a stand-in for ``Engine.train`` (a test double for the Discord-side
tests; the real training is what ``test_training_e2e`` and ``tests/engine/training`` run)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.client import ParrotBot
from bot.runtime import sample_limits
from bot.store.models import Visibility, Voice
from bot.store.voices import new_id
from bot.training.data import sample_copy_path
from engine.api import Engine, TrainedModel, TrainingParams, TrainingProgress, keep_training_copy
from tests.bot.conftest import add_voice
from tests.checkpoints.rvc import small_rvc_voice, write_index
from tests.checkpoints.rvc_pretrained import rvc_pretrained
from tests.fakediscord import FakeDiscord, FakeGuild


@pytest.fixture(scope="session", name="training_models_dir")
def training_models_dir_fixture(
    cover_models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Everything a cover needs, plus the tiny pretrained files in the hub's layout."""
    models = tmp_path_factory.mktemp("training-models")
    for entry in cover_models_dir.iterdir():
        (models / entry.name).symlink_to(entry.resolve(), target_is_directory=True)
    layout = models / "rvc-pretrained" / "pretrained_v2"
    layout.mkdir(parents=True)
    for path in rvc_pretrained(tiny=True):
        (layout / path.name).symlink_to(path)
    return models


class StandInTraining:
    """``Engine.train`` and ``check_training_available`` without a model: epochs are steps
    of a loop that waits while it reached ``allowed``; the "model" is a small random RVC
    export. Like the engine, it resumes from the epoch its work folder recorded."""

    def __init__(self, model: Path, index: Path) -> None:
        self.model, self.index = model, index
        self.refusal: Exception | None = None
        self.allowed = 10**6
        self.done_epochs = 0
        self.started_at: list[int] = []
        self.sources: list[list[Path]] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        stand_in = self

        async def check(engine: Engine, params: TrainingParams) -> None:
            if stand_in.refusal is not None:
                raise stand_in.refusal

        async def train(engine: Engine, *args: Any, **kwargs: Any) -> TrainedModel:
            return await stand_in.train(*args, **kwargs)

        monkeypatch.setattr(Engine, "check_training_available", check, raising=False)
        monkeypatch.setattr(Engine, "train", train, raising=False)

    async def train(
        self,
        sources: list[Path],
        work_dir: Path,
        output_dir: Path,
        params: TrainingParams,
        *,
        name: str = "model",
        progress: Any = None,
    ) -> TrainedModel:
        self.sources.append(list(sources))
        work_dir.mkdir(parents=True, exist_ok=True)
        marker = work_dir / "epoch"
        start = int(marker.read_text()) if marker.exists() else 0
        self.started_at.append(start)
        for epoch in range(start, params.epochs):
            while epoch >= self.allowed:
                await asyncio.sleep(0.02)
            marker.write_text(str(epoch + 1))
            self.done_epochs = epoch + 1
            if progress is not None:
                fraction = (epoch + 1) / params.epochs
                progress(
                    TrainingProgress(
                        "training", epoch + 1, params.epochs, epoch, 2.5, 1.0, 90.0, fraction
                    )
                )
            await asyncio.sleep(0.05)
        output_dir.mkdir(parents=True, exist_ok=True)
        model = shutil.copy(self.model, output_dir / f"{name}.pth")
        index = shutil.copy(self.index, output_dir / f"{name}.index")
        return TrainedModel(Path(model), Path(index), params.epochs, 7.5)


@pytest.fixture(name="stand_in")
def stand_in_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandInTraining:
    index = write_index(tmp_path / "trained.index", 768, count=64)
    training = StandInTraining(small_rvc_voice("v2", 40_000), index)
    training.install(monkeypatch)
    return training


async def voice_with_clip(
    parrot: ParrotBot,
    name: str,
    owner: dict[str, Any],
    guild: FakeGuild,
    clip: Path,
    *,
    training_copy: bool = True,
    visibility: Visibility = Visibility.GUILD,
) -> Voice:
    """A ready voice whose one sample is ``clip``, prepared as enrolment prepares it (no
    conditionals: training does not read them)."""
    voice = await add_voice(parrot, name, owner, guild, visibility=visibility)
    sample_id = new_id()
    sample = parrot.library.folder(voice.id) / "samples" / f"{sample_id}.wav"
    prepared = await parrot.engine.prepare_sample(clip, sample, sample_limits(parrot.settings))
    if training_copy:
        copy = sample_copy_path(parrot.library, voice.id, sample_id)
        await asyncio.to_thread(keep_training_copy, clip, copy, sample_limits(parrot.settings))
    await parrot.store.voices.add_sample(
        voice_id=voice.id,
        path=parrot.library.relative(sample),
        original_name=clip.name,
        sha256=prepared.sha256,
        duration_s=prepared.duration_s,
        sample_rate=prepared.sample_rate,
        sample_id=sample_id,
    )
    return voice


async def train(
    fake: FakeDiscord,
    guild: FakeGuild,
    member: dict[str, Any],
    voice: str,
    *,
    consent: bool = True,
    recordings: list[Path] = (),  # type: ignore[assignment]  # read only
    **options: Any,
) -> Any:
    attached = [fake.add_attachment(path.name, path.read_bytes(), None) for path in recordings]
    listed = [
        {"name": "voice", "type": 3, "value": voice},
        {"name": "consent", "type": 5, "value": consent},
        *(
            {"name": f"recording{number}", "type": 11, "value": payload["id"]}
            for number, payload in enumerate(attached, start=1)
        ),
        *({"name": key, "type": 4, "value": value} for key, value in options.items()),
    ]
    return await fake.slash(
        guild,
        member,
        "voice",
        [{"name": "train", "type": 1, "options": listed}],
        resolved={"attachments": {payload["id"]: payload for payload in attached}},
    )
