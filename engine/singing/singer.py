"""Zero-shot singing: any enrolled voice sings, without a trained RVC model.

Steps, for vocals of any length (run on the executor's worker thread):

1. cut at quiet points into pieces S3Gen handles well (≤ ``piece_seconds``);
2. each piece through S3Gen voice conversion (:mod:`engine.singing.s3gen`): the words
   in the new voice, but spoken;
3. the pieces joined with short crossfades (length kept, so the vocals stay in time);
4. the source melody put back with WORLD (:mod:`engine.singing.melody`), moved by the
   requested semitones. (The watermark goes on the finished cover, after the mix.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.audio import Audio, resample
from engine.executor import CancelToken
from engine.separate.pieces import OverlapAdd
from engine.separate.progress import Progress, ignore_progress
from engine.singing.melody import retune
from engine.singing.pitch import (
    PitchAccuracy,
    PitchTrack,
    analyse_pitch,
    measure_pitch_accuracy,
    speaking_pitch_hz,
)
from engine.singing.s3gen import OUTPUT_RATE, convert_speech, load_voice_reference
from engine.singing.split import quiet_pieces
from engine.tts.errors import VoiceNotEnrolledError

S3GenProvider = Callable[[], Any]
"""Returns the loaded S3Gen module; called on the worker thread (e.g. a ModelSlot's get)."""

METHOD = "zero-shot"
PEAK_CEILING = 0.98


@dataclass(frozen=True, slots=True)
class SingingParams:
    decoder_steps: int | None = None
    """S3Gen flow-matching steps; None keeps the model's default (10)."""
    piece_seconds: float = 20.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.decoder_steps is not None and not 1 <= self.decoder_steps <= 50:
            raise ValueError("decoder_steps must be in [1, 50]")
        if not 2.0 <= self.piece_seconds <= 30.0:
            raise ValueError("piece_seconds must be in [2, 30]: S3Gen is made for short clips")


@dataclass(frozen=True, eq=False, slots=True)
class SungVocals:
    audio: Audio
    """24 kHz mono, as long as the input."""
    intended: PitchTrack
    accuracy: PitchAccuracy | None
    """Filled when measuring was asked for (it costs one more pitch analysis)."""


def _conditionals_sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        raise VoiceNotEnrolledError(
            f"this voice has no Chatterbox conditionals at {path}; enrol it again"
        ) from None


class ZeroShotSinger:
    """A :class:`~engine.cover.convert.VocalConverter` that needs only the voice's conditionals."""

    method = METHOD

    def __init__(
        self,
        s3gen: S3GenProvider,
        conditionals: Path,
        *,
        model_label: str = "chatterbox-original",
        reference: Path | None = None,
        device: str = "cpu",
        params: SingingParams | None = None,
    ) -> None:
        self._s3gen = s3gen
        self.conditionals = conditionals
        self.model_label = model_label
        self.reference = reference
        self.device = device
        self.params = params or SingingParams()
        self._reference_dict: tuple[float, dict[str, Any]] | None = None
        self._voice_pitch: tuple[bool, float | None] = (False, None)

    @property
    def name(self) -> str:
        return f"{METHOD} ({self.model_label})"

    @property
    def cache_key(self) -> str:
        """Changes with the voice's conditionals, the S3Gen weights' label and the params."""
        parts = [
            METHOD,
            self.model_label,
            _conditionals_sha256(self.conditionals),
            repr(asdict(self.params)),
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    @property
    def voice_pitch_hz(self) -> float | None:
        """Median speaking F0 of the voice's reference clip, for choosing octaves."""
        known, value = self._voice_pitch
        if not known:
            value = None
            if self.reference is not None and self.reference.is_file():
                import soundfile

                samples, rate = soundfile.read(self.reference, dtype="float32", always_2d=True)
                value = speaking_pitch_hz(Audio(samples.mean(axis=1), int(rate)))
            self._voice_pitch = (True, value)
        return value

    def _reference(self) -> dict[str, Any]:
        stamp = self.conditionals.stat().st_mtime
        if self._reference_dict is None or self._reference_dict[0] != stamp:
            self._reference_dict = (stamp, load_voice_reference(self.conditionals, self.device))
        return self._reference_dict[1]

    # the VocalConverter protocol -------------------------------------------------------------
    def convert(
        self,
        vocals: Audio,
        semitones: float,
        token: CancelToken,
        progress: Progress = ignore_progress,
    ) -> Audio:
        return self.sing(vocals, semitones, token, progress).audio

    # ------------------------------------------------------------------------------------------
    def sing(
        self,
        vocals: Audio,
        semitones: float,
        token: CancelToken,
        progress: Progress = ignore_progress,
        *,
        measure: bool = False,
    ) -> SungVocals:
        """Convert and re-pitch ``vocals`` (any rate, mono); blocking, on the worker."""
        source = resample(vocals, OUTPUT_RATE)
        if len(source) == 0:
            raise ValueError("there are no vocals to convert")
        s3gen = self._s3gen()
        reference = self._reference()
        pieces = quiet_pieces(source, self.params.piece_seconds)
        joined = OverlapAdd((), len(source))
        for piece in pieces:
            token.raise_if_cancelled()
            chunk = Audio(source.samples[piece.start : piece.stop], OUTPUT_RATE)
            converted = convert_speech(
                s3gen,
                reference,
                chunk,
                decoder_steps=self.params.decoder_steps,
                seed=self.params.seed + piece.index,
            )
            joined.add(piece, converted.samples)
            progress(0.8 * (piece.index + 1) / len(pieces))
        token.raise_if_cancelled()
        spoken = Audio(joined.result(len(pieces)), OUTPUT_RATE)
        source_pitch = analyse_pitch(source)
        sung, intended = retune(spoken, source, source_pitch, semitones)
        sung = self._finish(sung)
        progress(0.95)
        accuracy = measure_pitch_accuracy(intended, sung) if measure else None
        progress(1.0)
        return SungVocals(sung, intended, accuracy)

    def _finish(self, sung: Audio) -> Audio:
        samples = sung.samples
        peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
        if peak > PEAK_CEILING:
            samples = samples * (PEAK_CEILING / peak)
        return Audio(np.ascontiguousarray(samples, dtype=np.float32), sung.sample_rate)
