"""The prepared training set on disk: the hand-off from preprocessing to training.

A folder holds ``manifest.json`` and one ``segments/NNNNN.npz`` per slice of speech. Each
segment is aligned at 100 frames a second: ``audio`` has ``frames * HOP`` float32 samples
at 40 kHz, ``features`` is (frames, 768) ContentVec (v2) output, ``pitch_hz`` (frames,)
float32 with 0 for unvoiced frames, ``coarse`` (frames,) int64 in 1..255. The manifest is
written last (atomically), so a folder without one is an unfinished preparation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.files import atomic_write_bytes, atomic_writer
from engine.training.params import TRAINING_SAMPLE_RATE

HOP = TRAINING_SAMPLE_RATE // 100
"""Audio samples per feature frame (400 at 40 kHz)."""
FEATURE_DIM = 768
MANIFEST = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Segment:
    audio: np.ndarray
    features: np.ndarray
    pitch_hz: np.ndarray
    coarse: np.ndarray

    @property
    def frames(self) -> int:
        return int(self.features.shape[0])

    def check(self) -> None:
        frames = self.frames
        if self.features.shape != (frames, FEATURE_DIM):
            raise ValueError(f"features must be (frames, {FEATURE_DIM}), got {self.features.shape}")
        if self.pitch_hz.shape != (frames,) or self.coarse.shape != (frames,):
            raise ValueError("pitch_hz and coarse need one value per feature frame")
        if self.audio.shape != (frames * HOP,):
            raise ValueError(f"audio must hold frames * {HOP} samples, got {self.audio.shape}")


@dataclass(frozen=True, slots=True)
class TrainingSet:
    folder: Path
    segment_frames: tuple[int, ...]
    source_hash: str
    """A hash of the inputs (audio content and preparation settings): the cache key."""

    @property
    def seconds(self) -> float:
        return sum(self.segment_frames) / 100.0

    def __len__(self) -> int:
        return len(self.segment_frames)

    def segment_path(self, index: int) -> Path:
        return self.folder / "segments" / f"{index:05d}.npz"

    def segment(self, index: int) -> Segment:
        with np.load(self.segment_path(index)) as data:
            return Segment(
                audio=data["audio"].astype(np.float32, copy=False),
                features=data["features"].astype(np.float32, copy=False),
                pitch_hz=data["pitch_hz"].astype(np.float32, copy=False),
                coarse=data["coarse"].astype(np.int64, copy=False),
            )

    def segments(self) -> Iterator[Segment]:
        for index in range(len(self)):
            yield self.segment(index)

    @classmethod
    def load(cls, folder: Path) -> TrainingSet | None:
        """The finished set in ``folder``, or None when it was never completed."""
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if manifest.get("version") != FORMAT_VERSION:
            return None
        return cls(folder, tuple(int(n) for n in manifest["frames"]), str(manifest["source"]))


class TrainingSetWriter:
    """Writes segments one by one, then the manifest that makes the set complete."""

    def __init__(self, folder: Path, source_hash: str) -> None:
        self.folder = folder
        self.source_hash = source_hash
        self._frames: list[int] = []
        (folder / "segments").mkdir(parents=True, exist_ok=True)
        (folder / MANIFEST).unlink(missing_ok=True)

    def add(self, segment: Segment) -> None:
        segment.check()
        path = self.folder / "segments" / f"{len(self._frames):05d}.npz"
        with atomic_writer(path) as handle:
            np.savez(
                handle,
                audio=segment.audio.astype(np.float32),
                features=segment.features.astype(np.float32),
                pitch_hz=segment.pitch_hz.astype(np.float32),
                coarse=segment.coarse.astype(np.int64),
            )
        self._frames.append(segment.frames)

    def finish(self) -> TrainingSet:
        if not self._frames:
            raise ValueError("a training set needs at least one segment")
        manifest = {"version": FORMAT_VERSION, "frames": self._frames, "source": self.source_hash}
        atomic_write_bytes(self.folder / MANIFEST, json.dumps(manifest).encode())
        return TrainingSet(self.folder, tuple(self._frames), self.source_hash)
