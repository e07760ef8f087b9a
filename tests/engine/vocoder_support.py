"""Helpers for the streaming S3Gen tests: a reference voice, a token-by-token driver and
the measures that compare streamed audio with one-shot audio."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from engine.tts.vocoder import S3GenStream, StreamSchedule, vocode_pieces

DEFAULT_SCHEDULE = StreamSchedule()
SAMPLES_PER_TOKEN = 960
"""24 kHz audio per speech token: 2 mel frames of 480 samples."""


def synthetic_reference(s3gen: Any, seconds: float, seed: int = 0) -> dict[str, Any]:
    """S3Gen's reference dict for a few seconds of a gliding, buzzy tone with a little noise."""
    rate = 16_000
    generator = torch.Generator().manual_seed(seed)
    time = torch.arange(int(seconds * rate)) / rate
    pitch = 140 + 30 * torch.sin(2 * math.pi * 0.7 * time)
    phase = 2 * math.pi * torch.cumsum(pitch, 0) / rate
    wave = 0.3 * torch.sin(phase) + 0.1 * torch.sin(2 * phase) + 0.1 * torch.sin(3 * phase)
    wave = wave + 0.02 * torch.randn(wave.shape, generator=generator)
    reference: dict[str, Any] = s3gen.embed_ref(wave[None], rate)
    return {
        key: value.detach() if torch.is_tensor(value) else value for key, value in reference.items()
    }


def speech_tokens(count: int, seed: int) -> list[int]:
    return torch.randint(0, 6561, (count,), generator=torch.Generator().manual_seed(seed)).tolist()


@dataclass
class Streamed:
    """What one stream handed out, and when."""

    stream: S3GenStream
    pieces: list[np.ndarray] = field(default_factory=list)
    calls: list[tuple[int, bool]] = field(default_factory=list)
    """(tokens so far, finished) of every call."""
    skipped: list[int] = field(default_factory=list)
    """Token counts at which the stream did not want a piece."""

    @property
    def audio(self) -> np.ndarray:
        return np.concatenate(self.pieces)

    @property
    def joins(self) -> list[int]:
        """Sample positions where one non-empty piece ends and the next begins."""
        lengths = [piece.size for piece in self.pieces if piece.size]
        return [int(position) for position in np.cumsum(lengths)[:-1]]


def stream_tokens(
    s3gen: Any,
    reference: dict[str, Any],
    tokens: Sequence[int],
    *,
    seed: int,
    steps: int | None = 2,
    schedule: StreamSchedule = DEFAULT_SCHEDULE,
) -> Streamed:
    """Feed ``tokens`` one at a time, as a speech scheduler would, and vocode a piece
    whenever the stream wants one (the last call with ``finished``)."""
    record = Streamed(S3GenStream(s3gen, reference, steps=steps, seed=seed, schedule=schedule))
    for count in range(1, len(tokens) + 1):
        finished = count == len(tokens)
        if not record.stream.wants_piece(count, finished):
            record.skipped.append(count)
            continue
        record.calls.append((count, finished))
        record.pieces.extend(vocode_pieces(s3gen, [(record.stream, tokens[:count], finished)]))
    return record


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


def largest_step(audio: np.ndarray) -> float:
    """The largest jump between neighbouring samples."""
    return float(np.abs(np.diff(audio)).max())


def largest_step_near(audio: np.ndarray, positions: Sequence[int], radius: int) -> float:
    return max(largest_step(audio[max(0, p - radius) : p + radius]) for p in positions)


def error_concentration(
    audio: np.ndarray, reference: np.ndarray, joins: Sequence[int], radius: int
) -> float:
    """How much more ``audio`` departs from ``reference`` within ``radius`` of the joins
    than it does after the first join on the whole: about 1 when the joins are no worse
    than the rest, large when each join leaves a mark."""
    error = audio - reference
    near = np.concatenate([error[p - radius : p + radius] for p in joins])
    return rms(near) / rms(error[joins[0] :])


def band_levels_db(audio: np.ndarray, rate: int, edges: Sequence[float]) -> list[float]:
    """Mean power (dB) of the audio's spectrum between consecutive band ``edges`` (Hz)."""
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64))) ** 2
    frequencies = np.fft.rfftfreq(audio.size, 1 / rate)
    return [
        10 * math.log10(spectrum[(frequencies >= low) & (frequencies < high)].mean())
        for low, high in itertools.pairwise(edges)
    ]
