"""Multichannel audio as the separation and mixing stages pass it around."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from engine.audio import Audio


@dataclass(frozen=True, eq=False, slots=True)
class Track:
    """Float32 samples shaped ``(channels, frames)`` at ``sample_rate`` Hz."""

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples)
        if samples.ndim != 2:
            raise ValueError(f"a track is (channels, frames), got shape {samples.shape}")
        if self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {self.sample_rate}")
        object.__setattr__(self, "samples", np.ascontiguousarray(samples, dtype=np.float32))

    @classmethod
    def from_mono(cls, audio: Audio, channels: int = 1) -> Track:
        return cls(np.repeat(audio.samples[None, :], channels, axis=0), audio.sample_rate)

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    def mono(self) -> Audio:
        """The channels averaged into one :class:`Audio`."""
        return Audio(self.samples.mean(axis=0), self.sample_rate)

    def sha256(self) -> str:
        """Digest of the samples, rate and layout: equal audio gives equal digests."""
        digest = hashlib.sha256(f"{self.sample_rate}:{self.samples.shape}".encode())
        digest.update(self.samples.tobytes())
        return digest.hexdigest()


@dataclass(frozen=True, eq=False, slots=True)
class Stems:
    """A song split in two: the lead vocals and everything else."""

    vocals: Track
    instrumental: Track

    def __post_init__(self) -> None:
        if self.vocals.samples.shape != self.instrumental.samples.shape:
            raise ValueError("vocals and instrumental must have the same shape")
        if self.vocals.sample_rate != self.instrumental.sample_rate:
            raise ValueError("vocals and instrumental must share one sample rate")

    @property
    def sample_rate(self) -> int:
        return self.vocals.sample_rate

    @property
    def duration(self) -> float:
        return self.vocals.duration
