"""Training in pieces on the CPU at tiny size: learning, checkpoints, resume, cancel."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.executor import JobCancelledError
from engine.training.checkpoints import checkpoint_path
from engine.training.errors import TrainingCheckpointError
from engine.training.mel import mel_spectrogram
from engine.training.params import TrainingParams
from engine.training.pretrained import PretrainedWeights, load_pretrained
from engine.training.run import TrainingRun
from engine.training.training_set import TrainingSet
from tests.checkpoints.rvc_pretrained import rvc_pretrained
from tests.engine.training.training_support import speech_training_set

PARAMS = TrainingParams(
    epochs=4, batch_size=2, save_every_epochs=2, learning_rate=3e-3, allow_cpu=True
)
"""A high learning rate: the random "pretrained" weights start far from any voice."""
LONGER = dataclasses.replace(PARAMS, epochs=6)


@dataclass
class Trained:
    training_set: TrainingSet
    pretrained: PretrainedWeights
    checkpoints: Path
    distance_before: float
    distance_after: float
    steps_per_epoch: int
    mel_losses: list[float] = field(default_factory=list)
    killed_at_step: int = 0


def mel_distance(run: TrainingRun, training_set: TrainingSet) -> float:
    """Mean |log-mel| difference between the network's rendering of segment 0 and the clip."""
    segment = training_set.segment(0)
    audio = run.generator.infer(
        torch.from_numpy(segment.features)[None],
        0,
        coarse_pitch=torch.from_numpy(segment.coarse)[None],
        pitch_hz=torch.from_numpy(segment.pitch_hz)[None],
        generator=torch.Generator().manual_seed(0),
    )
    real = torch.from_numpy(segment.audio)[None]
    return float((mel_spectrogram(audio[None]) - mel_spectrogram(real)).abs().mean())


@pytest.fixture(scope="module", name="trained")
def trained_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    """Four epochs with a checkpoint after the second and fourth, then a run "killed"
    one step into a fifth epoch (it never saved)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("training")
    training_set = speech_training_set(root)
    pretrained = load_pretrained(*rvc_pretrained(tiny=True))
    checkpoints = root / "checkpoints"
    run = TrainingRun(training_set, pretrained, checkpoints, PARAMS, "cpu")
    before = mel_distance(run, training_set)
    result = Trained(training_set, pretrained, checkpoints, before, 0.0, run.steps_per_epoch)
    seen_epoch = 0
    while not run.finished:
        progress = run.run_piece(0.5)
        run.save_due_checkpoint()
        if progress.epoch > seen_epoch and progress.mel_loss is not None:
            seen_epoch = progress.epoch
            result.mel_losses.append(progress.mel_loss)
    result.distance_after = mel_distance(run, training_set)
    longer = TrainingRun(training_set, pretrained, checkpoints, LONGER, "cpu")
    longer.run_piece(0.0)
    result.killed_at_step = longer.step
    yield result
    torch.set_num_threads(threads)


def test_a_few_steps_reduce_the_mel_loss(trained: Trained) -> None:
    assert len(trained.mel_losses) == PARAMS.epochs
    assert trained.mel_losses[-1] < trained.mel_losses[0]


def test_training_brings_the_output_closer_to_the_voice(trained: Trained) -> None:
    assert trained.distance_after < 0.8 * trained.distance_before


def test_a_killed_run_resumes_at_the_last_checkpoint(trained: Trained) -> None:
    assert trained.killed_at_step == 4 * trained.steps_per_epoch + 1
    resumed = TrainingRun(
        trained.training_set, trained.pretrained, trained.checkpoints, LONGER, "cpu"
    )
    assert (resumed.epoch, resumed.step) == (4, 4 * trained.steps_per_epoch)
    assert resumed.mel_loss == pytest.approx(trained.mel_losses[-1])
    assert resumed.scheduler_g.last_epoch == 4
    progress = resumed.run_piece(0.0)
    assert progress.step == 4 * trained.steps_per_epoch + 1


def test_a_finished_run_has_nothing_left_to_do(trained: Trained) -> None:
    finished = TrainingRun(
        trained.training_set, trained.pretrained, trained.checkpoints, PARAMS, "cpu"
    )
    assert finished.finished
    assert finished.run_piece(5.0).fraction == 1.0


def test_a_checkpoint_of_another_training_set_is_refused(trained: Trained) -> None:
    other = TrainingSet(
        trained.training_set.folder, trained.training_set.segment_frames, "other recordings"
    )
    with pytest.raises(TrainingCheckpointError, match="another training set"):
        TrainingRun(other, trained.pretrained, trained.checkpoints, PARAMS, "cpu")


def test_cancel_stops_before_the_next_step_and_keeps_the_checkpoint(
    trained: Trained, tmp_path: Path
) -> None:
    saved = checkpoint_path(trained.checkpoints).read_bytes()
    run = TrainingRun(trained.training_set, trained.pretrained, trained.checkpoints, LONGER, "cpu")
    calls = []

    def stop_on_second_step() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise JobCancelledError

    with pytest.raises(JobCancelledError):
        run.run_piece(60.0, stop_on_second_step)
    assert run.step == 4 * trained.steps_per_epoch + 1
    assert checkpoint_path(trained.checkpoints).read_bytes() == saved
    assert not list(trained.checkpoints.glob(".tmp-*"))


def test_the_run_keeps_other_work_random_state_alone(trained: Trained) -> None:
    torch.manual_seed(99)
    expected = torch.rand(3)
    torch.manual_seed(99)
    run = TrainingRun(trained.training_set, trained.pretrained, trained.checkpoints, LONGER, "cpu")
    run.run_piece(0.0)
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected.numpy())
