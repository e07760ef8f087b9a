"""Cutting a recording into training pieces, the way RVC's preprocessing does.

Per recording: decode at 40 kHz, remove DC, a 5th-order 48 Hz high-pass (causal, as in
RVC's training: a zero-phase filter would put pre-ringing into the target audio), then
cut out silences of at least 0.4 s, keeping a little of the silence around the speech.
Each stretch of speech is cut into pieces of 3.7 s that overlap by 0.3 s; the last piece
of a stretch takes the rest (up to 4 s). A piece is peak-normalised in part (RVC: three
quarters of the way to a 0.9 peak), then resampled to 16 kHz for the content and pitch
models. Pieces that are too short or mostly silent are dropped.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from functools import cache
from pathlib import Path

import numpy as np
from scipy.signal import butter, sosfilt

from engine.audio import Audio, remove_dc, resample
from engine.convert.pitch.contour import FRAME_HOP
from engine.convert.pitch.contour import SAMPLE_RATE as FEATURE_RATE
from engine.convert.prepare import HIGH_PASS_HZ, HIGH_PASS_ORDER
from engine.training.params import TRAINING_SAMPLE_RATE
from engine.training.speech_amount import active_frames, read_source
from engine.training.training_set import HOP

SLICE_FRAME_S = 0.01
"""Resolution of the silence search."""
BROKEN_PEAK = 2.5
"""A piece peaking past this is a decoding accident, not speech (RVC drops it too)."""


@dataclass(frozen=True, slots=True)
class SliceSettings:
    """How recordings are cut; part of the training set's cache key."""

    piece_s: float = 3.7
    overlap_s: float = 0.3
    min_silence_s: float = 0.4
    """Shorter pauses stay inside a piece (they are part of speaking)."""
    kept_silence_s: float = 0.3
    """Silence kept on each side of speech where a longer pause is cut out."""
    min_piece_s: float = 0.5
    """Shorter pieces are dropped; training crops 0.32 s windows from each piece."""
    min_active_share: float = 0.25
    """Pieces with less active speech than this share are dropped as silent."""
    peak: float = 0.9
    peak_share: float = 0.75
    """How far each piece is scaled toward ``peak`` (1: fully peak-normalised)."""

    def __post_init__(self) -> None:
        if not 0 <= self.overlap_s < self.piece_s:
            raise ValueError("pieces need 0 <= overlap_s < piece_s")
        if not 0 < self.min_piece_s <= self.piece_s:
            raise ValueError("min_piece_s must be positive and at most piece_s")
        if self.min_silence_s <= 0 or self.kept_silence_s < 0:
            raise ValueError("silences must be positive (kept silence may be 0)")
        if not 0 < self.peak <= 1 or not 0 <= self.peak_share <= 1:
            raise ValueError("peak must be in (0, 1] and peak_share in [0, 1]")
        if not 0 <= self.min_active_share <= 1:
            raise ValueError("min_active_share must be in [0, 1]")

    @property
    def key(self) -> str:
        """A stable text of every setting, for cache keys."""
        return "slice:" + ",".join(f"{value:g}" for value in astuple(self))


@dataclass(frozen=True, slots=True)
class Piece:
    """One training piece: the 40 kHz target and its 16 kHz copy, whole frames of both."""

    audio: np.ndarray
    """float32 at 40 kHz, ``frames * HOP`` samples."""
    audio_16k: np.ndarray
    """float32 at 16 kHz, ``frames * FRAME_HOP`` samples."""

    @property
    def frames(self) -> int:
        return len(self.audio) // HOP


@cache
def _high_pass_sections(rate: int) -> np.ndarray:
    sections: np.ndarray = butter(
        HIGH_PASS_ORDER, HIGH_PASS_HZ, btype="highpass", fs=rate, output="sos"
    )
    return sections


def high_pass(audio: Audio) -> Audio:
    """Remove rumble below 48 Hz (5th-order Butterworth, causal)."""
    filtered = sosfilt(_high_pass_sections(audio.sample_rate), audio.samples.astype(np.float64))
    return Audio(filtered.astype(np.float32), audio.sample_rate)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(
        zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True)
    )


def speech_stretches(
    active: np.ndarray, settings: SliceSettings, frame: int, length: int
) -> list[tuple[int, int]]:
    """Sample ranges of speech between long silences, from one bool per 10 ms ``frame``.

    Pauses shorter than ``min_silence_s`` are bridged; each stretch keeps up to
    ``kept_silence_s`` of the silence on each side, never past the middle of a pause.
    """
    rate_frames = 1.0 / SLICE_FRAME_S
    bridge = round(settings.min_silence_s * rate_frames)
    keep = round(settings.kept_silence_s * rate_frames)
    merged: list[tuple[int, int]] = []
    for start, end in _runs(active):
        if merged and start - merged[-1][1] < bridge:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    stretches = []
    for number, (start, end) in enumerate(merged):
        low, high = max(0, start - keep), min(len(active), end + keep)
        if number > 0:
            low = max(low, (merged[number - 1][1] + start) // 2)
        if number + 1 < len(merged):
            high = min(high, (end + merged[number + 1][0]) // 2)
        stretches.append((low * frame, min(length, high * frame)))
    return stretches


def piece_bounds(start: int, end: int, rate: int, settings: SliceSettings) -> list[tuple[int, int]]:
    """``piece_s`` windows stepping by ``piece_s - overlap_s``; the last takes the rest."""
    size = round(settings.piece_s * rate)
    step = round((settings.piece_s - settings.overlap_s) * rate)
    longest = size + round(settings.overlap_s * rate)
    bounds = []
    position = start
    while end - position > longest:
        bounds.append((position, position + size))
        position += step
    bounds.append((position, end))
    return bounds


def level_piece(samples: np.ndarray, settings: SliceSettings) -> np.ndarray | None:
    """Scale ``peak_share`` of the way to a ``peak`` peak; None for silence or a broken piece."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak <= 0.0 or peak > BROKEN_PEAK:
        return None
    share = settings.peak_share
    leveled = samples * (share * settings.peak / peak) + (1.0 - share) * samples
    return leveled.astype(np.float32)


def cut_pieces(audio: Audio, settings: SliceSettings) -> list[Piece]:
    """Every usable training piece of one recording (any rate; resampled to 40 kHz)."""
    if len(audio) == 0:
        return []
    audio = high_pass(remove_dc(resample(audio, TRAINING_SAMPLE_RATE)))
    rate = audio.sample_rate
    frame = round(SLICE_FRAME_S * rate)
    active = active_frames(audio, SLICE_FRAME_S)
    min_frames = settings.min_piece_s * rate / HOP
    pieces = []
    for stretch in speech_stretches(active, settings, frame, len(audio)):
        for start, end in piece_bounds(*stretch, rate, settings):
            frames = (end - start) // HOP
            covered = active[start // frame : end // frame]
            share = float(np.mean(covered)) if covered.size else 0.0
            if frames < min_frames or share < settings.min_active_share:
                continue
            leveled = level_piece(audio.samples[start : start + frames * HOP], settings)
            if leveled is None:
                continue
            low_rate = resample(Audio(leveled, rate), FEATURE_RATE).samples
            pieces.append(Piece(leveled, low_rate[: frames * FRAME_HOP]))
    return pieces


def preprocess_file(path: Path, settings: SliceSettings) -> list[Piece]:
    """Decode ``path`` (bounded) and cut it into training pieces; blocking."""
    return cut_pieces(read_source(path, TRAINING_SAMPLE_RATE), settings)
