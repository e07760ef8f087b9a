"""A training run that advances in pieces: whole steps until a time budget is spent.

The run holds the generator and discriminator (RVC v2 40k, from the pretrained weights),
AdamW (lr from the params, betas 0.8/0.99, eps 1e-9) and an exponential decay of
0.999875 per epoch, as RVC trains. Mixed precision (bf16, or fp16 with a gradient
scaler) is used on CUDA only. The random generators it uses are its own (restored around
each piece), so a run is reproducible from its seed and resumes where it stopped, and
other work on the same thread keeps its randomness.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch.amp.grad_scaler import GradScaler

from engine.training.batches import SegmentBank
from engine.training.checkpoints import load_checkpoint, save_checkpoint
from engine.training.discriminator import MultiPeriodDiscriminator
from engine.training.errors import NotEnoughAudioError
from engine.training.losses import (
    discriminator_loss,
    feature_matching_loss,
    generator_loss,
    kl_loss,
    mel_loss,
)
from engine.training.mel import mel_spectrogram, spectrogram_to_mel
from engine.training.network import TrainableSynthesizer, slice_frames
from engine.training.norms import apply_weight_norm
from engine.training.params import TrainingParams
from engine.training.pretrained import PretrainedWeights
from engine.training.progress import TrainingProgress
from engine.training.training_set import HOP, TrainingSet

BETAS = (0.8, 0.99)
EPS = 1e-9
LR_DECAY = 0.999875
RECENT_STEPS = 50
"""Time left is estimated from this many recent steps."""


def pick_batch_size(params: TrainingParams, device: torch.device, segments: int) -> int:
    """The params' batch size, or what fits the device (4 on CPU); never above the set."""
    size = params.batch_size
    if not size:
        size = 4
        if device.type == "cuda":
            gigabytes = torch.cuda.get_device_properties(device).total_memory / 2**30
            size = 32 if gigabytes >= 70 else 16 if gigabytes >= 20 else 8 if gigabytes >= 10 else 4
    return max(1, min(size, segments))


def _to_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {key: _to_cpu(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_to_cpu(item) for item in value)
    return value


class TrainingRun:
    def __init__(
        self,
        training_set: TrainingSet,
        pretrained: PretrainedWeights,
        checkpoint_dir: Path,
        params: TrainingParams,
        device: str,
    ) -> None:
        self.params = params
        self.device = torch.device(device)
        self.config = pretrained.config
        self.checkpoint_dir = checkpoint_dir
        self.source_hash = training_set.source_hash
        self.bank = SegmentBank(training_set, self.config.segment_frames)
        if not len(self.bank):
            raise NotEnoughAudioError(0.0, params.min_speech_seconds)
        self.batch_size = pick_batch_size(params, self.device, len(self.bank))
        self.steps_per_epoch = -(-len(self.bank) // self.batch_size)
        with torch.device("meta"):  # no random init: the pretrained weights replace it
            generator = TrainableSynthesizer(self.config)
            discriminator = MultiPeriodDiscriminator(self.config.discriminator_width_divisor)
        self.generator = self._build(generator, pretrained.generator)
        self.discriminator = self._build(discriminator, pretrained.discriminator)
        self.optimizer_g = self._optimizer(self.generator)
        self.optimizer_d = self._optimizer(self.discriminator)
        self.scheduler_g = torch.optim.lr_scheduler.ExponentialLR(self.optimizer_g, LR_DECAY)
        self.scheduler_d = torch.optim.lr_scheduler.ExponentialLR(self.optimizer_d, LR_DECAY)
        self.autocast_dtype = self._autocast_dtype()
        self.scaler = GradScaler(self.device.type, enabled=self.autocast_dtype is torch.float16)
        self._data_rng = torch.Generator().manual_seed(params.seed)
        self._rng_cpu = torch.Generator().manual_seed(params.seed + 1).get_state()
        self._rng_cuda: torch.Tensor | None = None
        self.epoch = 0
        self.step = 0
        self.loss: float | None = None
        self.mel_loss: float | None = None
        self._pending: list[list[int]] = []
        self._epoch_sums = [0.0, 0.0]
        self._step_seconds: list[float] = []
        self._checkpoint_due = False
        self._resume()

    # construction -----------------------------------------------------------------------
    def _build(self, module: torch.nn.Module, state: dict[str, torch.Tensor]) -> Any:
        module = apply_weight_norm(module).to_empty(device=self.device)
        module.load_state_dict(state, strict=True)
        return module.train()

    def _optimizer(self, module: torch.nn.Module) -> torch.optim.AdamW:
        return torch.optim.AdamW(
            module.parameters(), lr=self.params.learning_rate, betas=BETAS, eps=EPS
        )

    def _autocast_dtype(self) -> torch.dtype | None:
        if self.device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16

    @property
    def network_fingerprint(self) -> list[Any]:
        positional = self.config.synthesizer.to_positional(
            self.config.spec_channels, self.config.segment_frames
        )
        return [*positional, self.config.discriminator_width_divisor]

    def _resume(self) -> None:
        payload = load_checkpoint(self.checkpoint_dir, self.source_hash, self.network_fingerprint)
        if payload is None:
            return
        self.generator.load_state_dict(payload["generator"])
        self.discriminator.load_state_dict(payload["discriminator"])
        self.optimizer_g.load_state_dict(payload["optimizer_g"])
        self.optimizer_d.load_state_dict(payload["optimizer_d"])
        self.scheduler_g.load_state_dict(payload["scheduler_g"])
        self.scheduler_d.load_state_dict(payload["scheduler_d"])
        if self.scaler.is_enabled() and payload["scaler"]:  # empty when saved without fp16
            self.scaler.load_state_dict(payload["scaler"])
        self.epoch, self.step = int(payload["epoch"]), int(payload["step"])
        self.loss, self.mel_loss = payload.get("loss"), payload.get("mel_loss")
        rng = payload["rng"]
        self._data_rng.set_state(rng["data"])
        self._rng_cpu = rng["cpu"]
        if self.device.type == "cuda" and rng.get("cuda") is not None:
            self._rng_cuda = rng["cuda"]

    # state ------------------------------------------------------------------------------
    @property
    def epochs(self) -> int:
        return self.params.epochs

    @property
    def finished(self) -> bool:
        return self.epoch >= self.epochs

    def progress(self) -> TrainingProgress:
        done_in_epoch = self.steps_per_epoch - len(self._pending) if self._pending else 0
        remaining = max(0, (self.epochs - self.epoch) * self.steps_per_epoch - done_in_epoch)
        seconds_left = None
        if self._step_seconds:
            seconds_left = remaining * sum(self._step_seconds) / len(self._step_seconds)
        epochs_done = self.epoch + done_in_epoch / self.steps_per_epoch
        return TrainingProgress(
            stage="training",
            epoch=self.epoch,
            epochs=self.epochs,
            step=self.step,
            loss=self.loss,
            mel_loss=self.mel_loss,
            seconds_left=seconds_left,
            fraction=min(1.0, epochs_done / self.epochs),
        )

    # training ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _own_random_state(self) -> Iterator[None]:
        """Run with this run's global RNG state, then put back the thread's."""
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.set_rng_state(self._rng_cpu)
            if devices and self._rng_cuda is not None:
                torch.cuda.set_rng_state(self._rng_cuda, self.device)
            elif devices:
                with torch.cuda.device(self.device):
                    torch.cuda.manual_seed(self.params.seed + 2)
            try:
                yield
            finally:
                self._rng_cpu = torch.get_rng_state()
                if devices:
                    self._rng_cuda = torch.cuda.get_rng_state(self.device)

    def _autocast(self) -> Any:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def run_piece(
        self, max_seconds: float, should_stop: Callable[[], None] | None = None
    ) -> TrainingProgress:
        """Whole steps until ``max_seconds`` have passed (at least one), the run finishes,
        or an epoch ends with a checkpoint due (take it with :meth:`take_checkpoint`).

        ``should_stop`` is called before each step and raises to stop (a cancel token).
        """
        started = time.monotonic()
        with self._own_random_state():
            while not self.finished and not self._checkpoint_due:
                if should_stop is not None:
                    should_stop()
                self._train_step()
                if time.monotonic() - started >= max_seconds:
                    break
        return self.progress()

    def _train_step(self) -> None:
        started = time.monotonic()
        if not self._pending:
            self._pending = self.bank.epoch_batches(self.batch_size, self._data_rng)
            self._epoch_sums = [0.0, 0.0]
        indices = self._pending.pop(0)
        total, mel = self._optimise(indices)
        self.step += 1
        self._epoch_sums[0] += total
        self._epoch_sums[1] += mel
        if not self._pending:
            self._end_epoch()
        self._step_seconds = [
            *self._step_seconds[-(RECENT_STEPS - 1) :],
            time.monotonic() - started,
        ]

    def _end_epoch(self) -> None:
        self.epoch += 1
        self.loss = self._epoch_sums[0] / self.steps_per_epoch
        self.mel_loss = self._epoch_sums[1] / self.steps_per_epoch
        self.scheduler_g.step()
        self.scheduler_d.step()
        if self.epoch % self.params.save_every_epochs == 0 or self.finished:
            self._checkpoint_due = True

    def _optimise(self, indices: list[int]) -> tuple[float, float]:
        item = self.bank.batch(indices, self._data_rng, self.device)
        segment = self.config.segment_frames
        with self._autocast():
            out = self.generator(item.batch, self._data_rng)
        with torch.autocast(self.device.type, enabled=False):
            real_mel = slice_frames(spectrogram_to_mel(item.batch.spec), out.starts, segment)
            fake_mel = mel_spectrogram(out.audio.float().squeeze(1))
        batch, samples = item.audio.shape
        frames = item.audio.view(batch, samples // HOP, HOP).transpose(1, 2)
        real = slice_frames(frames, out.starts, segment).transpose(1, 2).reshape(batch, 1, -1)

        with self._autocast():
            real_scores, fake_scores, _, _ = self.discriminator(real, out.audio.detach())
        loss_d = discriminator_loss(real_scores, fake_scores)
        self.optimizer_d.zero_grad(set_to_none=True)
        scaled: torch.Tensor = self.scaler.scale(loss_d)
        torch.autograd.backward(scaled)
        self.scaler.step(self.optimizer_d)

        with self._autocast():
            _, fake_scores, real_maps, fake_maps = self.discriminator(real, out.audio)
        loss_mel = mel_loss(real_mel, fake_mel)
        loss_total = (
            generator_loss(fake_scores)
            + feature_matching_loss(real_maps, fake_maps)
            + loss_mel
            + kl_loss(out.z_p, out.log_scale_q, out.mean_p, out.log_scale_p)
        )
        self.optimizer_g.zero_grad(set_to_none=True)
        scaled = self.scaler.scale(loss_total)
        torch.autograd.backward(scaled)
        self.scaler.step(self.optimizer_g)
        self.scaler.update()
        return float(loss_total.item()), float(loss_mel.item())

    # checkpoints ------------------------------------------------------------------------
    def checkpoint_payload(self) -> dict[str, Any]:
        """Everything to resume, copied to the CPU (call on the thread that trains)."""
        payload: dict[str, Any] = _to_cpu(
            {
                "generator": self.generator.state_dict(),
                "discriminator": self.discriminator.state_dict(),
                "optimizer_g": self.optimizer_g.state_dict(),
                "optimizer_d": self.optimizer_d.state_dict(),
                "scheduler_g": self.scheduler_g.state_dict(),
                "scheduler_d": self.scheduler_d.state_dict(),
                "scaler": self.scaler.state_dict(),
                "epoch": self.epoch,
                "step": self.step,
                "loss": self.loss,
                "mel_loss": self.mel_loss,
                "rng": {
                    "data": self._data_rng.get_state(),
                    "cpu": self._rng_cpu,
                    "cuda": self._rng_cuda,
                },
                "source_hash": self.source_hash,
                "params": dataclasses.asdict(self.params),
                "network": self.network_fingerprint,
            }
        )
        return payload

    def take_checkpoint(self) -> dict[str, Any] | None:
        """The due checkpoint's payload (then no longer due), or None when none is due."""
        if not self._checkpoint_due:
            return None
        self._checkpoint_due = False
        return self.checkpoint_payload()

    def save_due_checkpoint(self) -> Path | None:
        """Take and write the due checkpoint here and now (tests, benchmarks)."""
        payload = self.take_checkpoint()
        return None if payload is None else save_checkpoint(self.checkpoint_dir, payload)
