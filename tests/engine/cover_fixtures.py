"""Session fixtures for separation, singing and covers: random-weight Demucs and Chatterbox.

Test modules import the ``*_fixture`` functions; pytest registers them under their
``name``. The expensive parts are built once per session through ``_BUILT`` even when
several modules import them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import soundfile

from engine.config import EngineConfig
from engine.executor import GpuExecutor
from engine.singing import SingingParams, ZeroShotSinger
from tests.checkpoints.demucs import demucs_repo
from tests.engine.speech import espeak
from tests.engine.synthetic_music import synthetic_song

SONG_RATE = 44_100
FAST_SINGING = SingingParams(decoder_steps=1, piece_seconds=20.0, seed=3)
VOICE_TEXTS = {
    "low": ("en", "Hello, this is my voice."),
    "high": ("en+f3", "Hello, this is my voice."),
}

_BUILT: dict[tuple[str, Path], Any] = {}


def single_thread() -> None:
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session", name="demucs_models_dir")
def demucs_models_dir_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PARROT_MODELS_DIR whose ``demucs`` folder is the cached tiny random repo."""
    key = ("demucs", tmp_path_factory.getbasetemp())
    if key not in _BUILT:
        models = tmp_path_factory.mktemp("demucs-models")
        (models / "demucs").symlink_to(demucs_repo(), target_is_directory=True)
        _BUILT[key] = models
    return _BUILT[key]


@pytest.fixture(scope="session", name="song_file")
def song_file_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s stereo "song" (sung vowel, tone melody, noise drums) as a WAV file."""
    key = ("song", tmp_path_factory.getbasetemp())
    if key not in _BUILT:
        samples, _ = synthetic_song(3.0, SONG_RATE)
        path = tmp_path_factory.mktemp("song") / "song.wav"
        soundfile.write(path, samples.T, SONG_RATE, subtype="FLOAT")
        _BUILT[key] = path
    return _BUILT[key]


@dataclass(frozen=True)
class Voice:
    conditionals: Path
    reference: Path


@dataclass
class SingingKit:
    """A loaded random Chatterbox and two enrolled voices (a low and a high one)."""

    backend: Any
    voices: dict[str, Voice]

    def s3gen(self) -> Any:
        return self.backend.model.s3gen

    def singer(self, voice: str, params: SingingParams = FAST_SINGING) -> ZeroShotSinger:
        chosen = self.voices[voice]
        return ZeroShotSinger(
            self.s3gen, chosen.conditionals, reference=chosen.reference, params=params
        )


@pytest.fixture(scope="session", name="singing_kit")
def singing_kit_fixture(
    chatterbox_models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> SingingKit:
    """Enrols two espeak voices with the real Chatterbox code (random weights)."""
    key = ("singing", tmp_path_factory.getbasetemp())
    if key not in _BUILT:
        from engine.tts.chatterbox import ChatterboxBackend

        single_thread()
        config = EngineConfig(
            data_dir=tmp_path_factory.mktemp("data"), device="cpu", models_dir=chatterbox_models_dir
        )
        backend = ChatterboxBackend(config, "cpu")
        backend.load()
        voices = {}
        for name, (espeak_voice, text) in VOICE_TEXTS.items():
            folder = tmp_path_factory.mktemp(f"voice-{name}")
            reference = espeak(folder / "reference.wav", text, voice=espeak_voice)
            conditionals = folder / "conds-chatterbox-original.pt"
            backend.save_conditionals(backend.make_conditionals(reference, 0.5), conditionals)
            voices[name] = Voice(conditionals, reference)
        _BUILT[key] = SingingKit(backend, voices)
    return _BUILT[key]


@pytest.fixture(name="executor")
def executor_fixture() -> Iterator[GpuExecutor]:
    worker = GpuExecutor("cpu", max_queued=16, idle_unload_s=3600, thread_setup=single_thread)
    yield worker
    worker.shutdown()
