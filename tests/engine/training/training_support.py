"""A small training set from real (espeak-ng) speech, written without the content models.

The model side is tested apart from preprocessing: audio and pitch are real (Praat's
autocorrelation pitch, no weights), and the "content features" are a fixed random
projection of each frame's log-mel, which, like ContentVec output, is a deterministic
function of the audio at 100 frames a second.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.audio import decode
from engine.convert.pitch import contour
from engine.convert.pitch.praat import PraatExtractor
from engine.training.training_set import FEATURE_DIM, HOP, Segment, TrainingSet, TrainingSetWriter
from tests.engine.speech import espeak

SEGMENT_FRAMES = 120
"""1.2 s slices (RVC slices at 3.7 s; shorter keeps the CPU tests quick)."""


def projected_features(audio_40k: np.ndarray, seed: int = 7) -> np.ndarray:
    """(frames, 768) stand-in content features: a random projection of log-mel frames."""
    import torch

    from engine.training.mel import mel_spectrogram

    mel = mel_spectrogram(torch.from_numpy(audio_40k)[None])[0].T.numpy()
    projection = np.random.default_rng(seed).standard_normal((mel.shape[1], FEATURE_DIM))
    features: np.ndarray = (mel @ projection / np.sqrt(mel.shape[1])).astype(np.float32)
    return features


def speech_training_set(
    folder: Path, *, source_hash: str = "espeak-v1", voice: str = "en", speed: int = 150
) -> TrainingSet:
    """espeak-ng sentences at 40 kHz, sliced into segments of SEGMENT_FRAMES frames."""
    folder.mkdir(parents=True, exist_ok=True)
    wav = espeak(folder / "speech.wav", voice=voice, speed=speed)
    audio = decode(wav, sample_rate=40_000, max_bytes=10**8, max_seconds=60).samples
    audio = (0.5 * audio / max(1e-6, float(np.abs(audio).max()))).astype(np.float32)
    frames = len(audio) // HOP
    audio = audio[: frames * HOP]
    audio_16k = decode(wav, sample_rate=16_000, max_bytes=10**8, max_seconds=60).samples
    pitch = PraatExtractor.load().extract(audio_16k, frames).astype(np.float32)
    features = projected_features(audio)[:frames]
    writer = TrainingSetWriter(folder / "set", source_hash)
    for start in range(0, frames - SEGMENT_FRAMES + 1, SEGMENT_FRAMES):
        window = slice(start, start + SEGMENT_FRAMES)
        writer.add(
            Segment(
                audio=audio[start * HOP : (start + SEGMENT_FRAMES) * HOP],
                features=features[window],
                pitch_hz=pitch[window],
                coarse=contour.coarse_pitch(pitch[window]),
            )
        )
    return writer.finish()
