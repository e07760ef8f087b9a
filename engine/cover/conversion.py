"""The ``convert`` stage: the song's vocals sung by the voice, piece by piece on the executor.

Each piece (cut at quiet points) is its own executor job, so speech runs between them;
the melody may first move by whole octaves towards the voice's own range.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.audio import Audio, resample
from engine.cover.convert import VocalConverter
from engine.cover.mix import fit_length
from engine.cover.stage import CoverJob, CoverStage, Lane, TrackTransform
from engine.executor import CancelToken
from engine.separate.pieces import OverlapAdd
from engine.separate.progress import Progress, from_worker, scaled
from engine.separate.stems import Track
from engine.singing.pitch import analyse_pitch, octaves_towards
from engine.singing.split import quiet_pieces

PITCH_ANALYSIS_RATE = 16_000
MAX_LEVEL_CHANGE_DB = 20.0


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0


def match_level(samples: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Scale ``samples`` to the RMS of ``reference`` (at most ±20 dB)."""
    have, want = _rms(samples), _rms(reference)
    if have <= 0 or want <= 0:
        return samples
    limit = 10.0 ** (MAX_LEVEL_CHANGE_DB / 20.0)
    scaled: np.ndarray = samples * min(limit, max(1.0 / limit, want / have))
    return scaled.astype(np.float32)


def octaves_for(source: Audio, converter: VocalConverter) -> int:
    """Octaves that bring the song's melody nearest to the voice's own pitch."""
    voice = converter.voice_pitch_hz
    if voice is None:
        return 0
    melody = analyse_pitch(resample(source, PITCH_ANALYSIS_RATE)).median_hz()
    return octaves_towards(melody, voice)


def convert_piece(
    converter: VocalConverter,
    chunk: Audio,
    semitones: float,
    progress: Progress,
    token: CancelToken,
) -> np.ndarray:
    """One executor job: a piece of vocals converted, back at the song's rate and length."""
    converted = converter.convert(chunk, semitones, token, progress)
    back = resample(converted, chunk.sample_rate).samples
    return fit_length(back, len(chunk))


def _key_inputs(job: CoverJob, stems: str) -> Mapping[str, object]:
    return {
        "stems": stems,
        "method": job.converter.method,
        "converter": job.converter.cache_key,
        "semitones": job.params.semitones,
        "fit_octaves": job.params.fit_octaves,
        "piece_seconds": job.convert_piece_seconds,
    }


async def _convert(
    job: CoverJob, vocals: Track, _inputs: Mapping[str, object], progress: Progress
) -> tuple[Track, dict[str, Any]]:
    source = vocals.mono()
    converter, params = job.converter, job.params
    octaves = 0
    if params.fit_octaves:
        octaves = await asyncio.to_thread(octaves_for, source, converter)
    semitones = params.semitones + 12 * octaves
    pieces = quiet_pieces(source, job.convert_piece_seconds)
    joined = OverlapAdd((), len(source))
    report = from_worker(progress, asyncio.get_running_loop())
    for piece in pieces:
        chunk = Audio(source.samples[piece.start : piece.stop], source.sample_rate)
        share = scaled(report, piece.index / len(pieces), (piece.index + 1) / len(pieces))
        converted = await job.executor.run(
            functools.partial(convert_piece, converter, chunk, semitones, share),
            priority=job.priority,
            label=f"convert {piece.index + 1}/{len(pieces)}",
        )
        joined.add(piece, converted)
    samples = match_level(joined.result(len(pieces)), source.samples)
    result = Track(samples[None, :], source.sample_rate)
    metadata = {
        "method": converter.method,
        "converter": converter.cache_key,
        "semitones": params.semitones,
        "octaves": octaves,
        "pieces": len(pieces),
        "duration_s": round(result.duration, 3),
    }
    return result, metadata


CONVERT = CoverStage(
    "convert",
    "Singing the vocals in the new voice",
    0.45,
    TrackTransform(Lane.VOCALS, "vocals", _key_inputs, _convert),
)
