"""The training set in memory, cut into equal-length windows per batch.

Every item of a batch is a random window of the same number of frames (the shortest
chosen segment's, rounded down to a multiple of ``WINDOW_STEP`` and capped), so the
networks need no padding masks and few distinct shapes reach the GPU kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.training.mel import linear_spectrogram
from engine.training.network import Batch
from engine.training.training_set import HOP, TrainingSet

WINDOW_STEP = 16
BUCKET_POOL_BATCHES = 8
MAX_WINDOW_FRAMES = 512
"""About 5 s: RVC's slices are 3.7 s, longer ones only cost memory."""


@dataclass(frozen=True, slots=True)
class TrainingBatch:
    batch: Batch
    audio: torch.Tensor
    """(B, frames * HOP) waveform windows matching ``batch``'s frames."""


class SegmentBank:
    """All usable segments as CPU tensors (segments shorter than ``min_frames`` are skipped)."""

    def __init__(self, training_set: TrainingSet, min_frames: int) -> None:
        self.min_frames = min_frames
        self.audio: list[torch.Tensor] = []
        self.features: list[torch.Tensor] = []
        self.pitch_hz: list[torch.Tensor] = []
        self.coarse: list[torch.Tensor] = []
        for index, frames in enumerate(training_set.segment_frames):
            if frames < min_frames:
                continue
            segment = training_set.segment(index)
            self.audio.append(torch.from_numpy(segment.audio))
            self.features.append(torch.from_numpy(segment.features))
            self.pitch_hz.append(torch.from_numpy(segment.pitch_hz))
            self.coarse.append(torch.from_numpy(segment.coarse))

    def __len__(self) -> int:
        return len(self.audio)

    @property
    def seconds(self) -> float:
        return sum(len(audio) for audio in self.audio) / (HOP * 100)

    def frames(self, index: int) -> int:
        return int(self.features[index].shape[0])

    def epoch_batches(self, batch_size: int, generator: torch.Generator) -> list[list[int]]:
        """A shuffled pass over every segment in batches of ``batch_size`` (one may be smaller).

        Like RVC's bucket sampler, segments of similar length share a batch: a shuffled
        pool of a few batches is sorted by length before it is cut, so a short segment
        rarely crops long ones; the batches' order is shuffled again.
        """
        order = torch.randperm(len(self), generator=generator).tolist()
        pool = batch_size * BUCKET_POOL_BATCHES
        batches = []
        for start in range(0, len(order), pool):
            bucket = sorted(order[start : start + pool], key=self.frames)
            batches += [bucket[i : i + batch_size] for i in range(0, len(bucket), batch_size)]
        shuffled = torch.randperm(len(batches), generator=generator).tolist()
        return [batches[index] for index in shuffled]

    def window_frames(self, indices: list[int]) -> int:
        shortest = min(self.frames(index) for index in indices)
        rounded = max(self.min_frames, shortest // WINDOW_STEP * WINDOW_STEP)
        return min(rounded, shortest, MAX_WINDOW_FRAMES)

    def batch(
        self, indices: list[int], generator: torch.Generator, device: torch.device | str
    ) -> TrainingBatch:
        length = self.window_frames(indices)
        audio, features, pitch, coarse = [], [], [], []
        for index in indices:
            start = int(
                torch.randint(0, self.frames(index) - length + 1, (1,), generator=generator)
            )
            audio.append(self.audio[index][start * HOP : (start + length) * HOP])
            features.append(self.features[index][start : start + length])
            pitch.append(self.pitch_hz[index][start : start + length])
            coarse.append(self.coarse[index][start : start + length])
        waves = torch.stack(audio).to(device, non_blocking=True)
        batch = Batch(
            features=torch.stack(features).to(device, non_blocking=True),
            coarse=torch.stack(coarse).to(device, non_blocking=True),
            pitch_hz=torch.stack(pitch).to(device, non_blocking=True),
            spec=linear_spectrogram(waves),
            speakers=torch.zeros(len(indices), dtype=torch.long, device=device),
        )
        return TrainingBatch(batch, waves)
