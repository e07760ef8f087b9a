"""From recordings to a training set on disk: pieces, content features, pitch.

Features and pitch come from the same code conversion uses (:class:`ContentFeatures` and
a :class:`PitchExtractor`), on the 16 kHz copy of each piece. Content features come at 50
frames a second and are repeated to 100, as RVC's training loader and inference both do,
so ``features[::2]`` are the encoder's own frames. The set is keyed by the recordings'
bytes and every setting that shapes it: preparing the same inputs again returns the set
already on disk without any work.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from engine.convert.features import ContentFeatures
from engine.convert.info import RvcVersion
from engine.convert.pipeline import FEATURE_UPSAMPLE
from engine.convert.pitch.base import PitchExtractor
from engine.convert.pitch.contour import coarse_pitch
from engine.convert.singer import file_sha256
from engine.training.errors import NotEnoughAudioError
from engine.training.params import TrainingParams
from engine.training.preprocess import Piece, SliceSettings, preprocess_file
from engine.training.training_set import HOP, Segment, TrainingSet, TrainingSetWriter

PREPARATION = "rvc-v2-40k-prepare-1"
"""Changes whenever this module's output would change for the same inputs."""
DEFAULT_SLICING = SliceSettings()

StopCheck = Callable[[], None]
PreparationProgress = Callable[[float], None]


def preparation_hash(
    sources: Sequence[Path],
    *,
    content: ContentFeatures,
    pitch: PitchExtractor,
    slicing: SliceSettings = DEFAULT_SLICING,
) -> str:
    """The cache key: the recordings' bytes (in order) and the preparation settings."""
    parts = [
        PREPARATION,
        slicing.key,
        f"pitch:{pitch.method.value}",
        f"content:{content.layers}:{int(content.normalize)}",
        *(file_sha256(Path(path)) for path in sources),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def extract_segment(
    piece: Piece, content: ContentFeatures, pitch: PitchExtractor
) -> Segment | None:
    """Features and pitch of one piece, all cut to the frames they share (None if none)."""
    encoded = content.extract(piece.audio_16k, RvcVersion.V2).float().cpu().numpy()
    features = np.repeat(encoded, FEATURE_UPSAMPLE, axis=0)
    frames = min(piece.frames, len(features))
    if frames == 0:
        return None
    pitch_hz = pitch.extract(piece.audio_16k, piece.frames)[:frames].astype(np.float32)
    return Segment(
        audio=piece.audio[: frames * HOP],
        features=features[:frames],
        pitch_hz=pitch_hz,
        coarse=coarse_pitch(pitch_hz),
    )


def _start_afresh(folder: Path) -> None:
    shutil.rmtree(folder / "segments", ignore_errors=True)


def prepare_training_set(
    sources: Sequence[Path],
    folder: Path,
    *,
    content: ContentFeatures,
    pitch: PitchExtractor,
    should_stop: StopCheck | None = None,
    progress: PreparationProgress | None = None,
    slicing: SliceSettings = DEFAULT_SLICING,
) -> TrainingSet:
    """Prepare ``sources`` into ``folder`` (blocking; for the executor's worker thread).

    ``should_stop()`` runs before each recording and each piece and raises to cancel;
    the unfinished segments are then removed. ``progress`` gets the fraction done.
    Raises :class:`NotEnoughAudioError` when no usable speech is found, and
    :class:`~engine.audio.AudioRejectedError` for a recording that cannot be decoded.
    """
    folder = Path(folder)
    key = preparation_hash(sources, content=content, pitch=pitch, slicing=slicing)
    existing = TrainingSet.load(folder)
    if existing is not None and existing.source_hash == key:
        return existing
    _start_afresh(folder)
    writer = TrainingSetWriter(folder, key)
    written = 0
    try:
        for number, path in enumerate(sources):
            if should_stop is not None:
                should_stop()
            pieces = preprocess_file(Path(path), slicing)
            for done, piece in enumerate(pieces):
                if should_stop is not None:
                    should_stop()
                segment = extract_segment(piece, content, pitch)
                if segment is not None:
                    writer.add(segment)
                    written += 1
                if progress is not None:
                    progress((number + (done + 1) / len(pieces)) / len(sources))
            if progress is not None and not pieces:
                progress((number + 1) / len(sources))
        if written == 0:
            raise NotEnoughAudioError(0.0, TrainingParams().min_speech_seconds)
        return writer.finish()
    except BaseException:
        _start_afresh(folder)
        raise
