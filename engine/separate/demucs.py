"""Demucs on the executor's worker thread: one piece of a song at a time, cancellable.

A song is separated in pieces (see :mod:`engine.separate.pieces`); inside a piece
demucs's ``apply_model`` runs its own overlapping segments and calls back at each one,
which is where the cancel token is checked and progress reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.config import SeparationModel
from engine.executor import CancelToken
from engine.separate.pieces import OverlapAdd, Piece, plan_pieces
from engine.separate.stems import Stems, Track
from engine.separate.weights import load_demucs

Progress = Callable[[float], None]

SAMPLE_RATE = 44_100
"""Every Demucs model works on 44.1 kHz stereo."""
CHANNELS = 2
VOCALS = "vocals"


def _ignore(_: float) -> None:
    return None


@dataclass(frozen=True, slots=True)
class SeparationPlan:
    """A song cut into pieces, with the level statistics every piece is normalised by."""

    mix: Track
    pieces: list[Piece]
    mean: float
    std: float


class DemucsSeparator:
    """Owns one Demucs model; every method runs on the executor's worker thread."""

    def __init__(
        self,
        model: SeparationModel | str = SeparationModel.HTDEMUCS,
        *,
        models_dir: Path | None,
        device: str = "cpu",
        allow_download: bool = True,
        shifts: int = 0,
        overlap: float = 0.25,
    ) -> None:
        self.model_name = str(model)
        self.models_dir = models_dir
        self.device = device
        self.allow_download = allow_download
        self.shifts = shifts
        self.overlap = overlap
        self._model: Any = None

    @property
    def name(self) -> str:
        """The executor slot name."""
        return f"demucs-{self.model_name}"

    @property
    def settings(self) -> dict[str, Any]:
        """Everything besides the input that changes the stems: part of the cache key."""
        return {"model": self.model_name, "shifts": self.shifts, "overlap": self.overlap}

    # lifetime ------------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> DemucsSeparator:
        if self._model is None:
            model = load_demucs(
                self.model_name, models_dir=self.models_dir, allow_download=self.allow_download
            )
            self._model = model.to(self.device)
        return self

    def unload(self) -> None:
        self._model = None
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()

    @property
    def model(self) -> Any:
        return self.load()._model

    # separation ------------------------------------------------------------------------------
    def plan(
        self, mix: Track, piece_seconds: float = 30.0, overlap_seconds: float = 2.0
    ) -> SeparationPlan:
        """Cut ``mix`` (44.1 kHz stereo) into pieces; cheap, no model needed."""
        if mix.sample_rate != SAMPLE_RATE or mix.channels != CHANNELS:
            raise ValueError(
                f"Demucs needs {SAMPLE_RATE} Hz stereo, got {mix.sample_rate} Hz with "
                f"{mix.channels} channel(s)"
            )
        pieces = plan_pieces(
            mix.frames, round(piece_seconds * SAMPLE_RATE), round(overlap_seconds * SAMPLE_RATE)
        )
        reference = mix.samples.mean(axis=0, dtype=np.float64)
        std = float(reference.std())
        return SeparationPlan(mix, pieces, float(reference.mean()), std if std > 1e-8 else 1.0)

    def _segments(self, frames: int) -> int:
        """How many model calls ``apply_model`` makes for ``frames``: the progress total."""
        model = self.model
        members = getattr(model, "models", [model])
        total = 0
        for member in members:
            segment = float(getattr(model, "segment", None) or member.segment)
            stride = max(1, int((1 - self.overlap) * int(member.samplerate * segment)))
            total += math.ceil(frames / stride)
        return total * max(1, self.shifts)

    def separate_piece(
        self, plan: SeparationPlan, index: int, token: CancelToken, progress: Progress = _ignore
    ) -> np.ndarray:
        """Stems of one piece, shaped ``(2, channels, frames)``: vocals, then the rest summed."""
        import torch
        from demucs.apply import apply_model

        piece = plan.pieces[index]
        model = self.model
        token.raise_if_cancelled()
        chunk = (plan.mix.samples[:, piece.start : piece.stop] - plan.mean) / plan.std
        total = self._segments(piece.frames)
        done = 0

        def on_segment(state: dict[str, Any]) -> None:
            nonlocal done
            token.raise_if_cancelled()  # demucs lets an exception from here abort the rest
            if state.get("state") == "end":
                done += 1
                progress(min(1.0, done / total))

        with torch.inference_mode():
            mixed = torch.from_numpy(np.ascontiguousarray(chunk))[None]
            sources = apply_model(
                model,
                mixed,
                shifts=self.shifts,
                split=True,
                overlap=self.overlap,
                device=self.device,
                callback=on_segment,
            )[0]
        stems: np.ndarray = sources.float().cpu().numpy() * plan.std + plan.mean
        vocals_at = list(model.sources).index(VOCALS)
        vocals = stems[vocals_at]
        rest = np.delete(stems, vocals_at, axis=0).sum(axis=0)
        both: np.ndarray = np.stack([vocals, rest])
        return both.astype(np.float32)

    def assemble(self, plan: SeparationPlan, outputs: list[np.ndarray]) -> Stems:
        """Join the pieces' outputs (in order) into the song's stems."""
        joined = OverlapAdd((2, plan.mix.channels), plan.mix.frames)
        for piece, output in zip(plan.pieces, outputs, strict=True):
            joined.add(piece, output)
        both = joined.result(len(plan.pieces))
        return Stems(Track(both[0], SAMPLE_RATE), Track(both[1], SAMPLE_RATE))

    def separate(
        self,
        mix: Track,
        token: CancelToken,
        progress: Progress = _ignore,
        *,
        piece_seconds: float = 30.0,
    ) -> Stems:
        """The whole song in one call (all pieces on this thread): for scripts and benches."""
        plan = self.plan(mix, piece_seconds)
        outputs = []
        count = len(plan.pieces)

        def piece_progress(index: int) -> Progress:
            return lambda fraction: progress((index + fraction) / count)

        for index in range(count):
            outputs.append(self.separate_piece(plan, index, token, piece_progress(index)))
        return self.assemble(plan, outputs)
