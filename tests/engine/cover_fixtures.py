"""Session fixtures for separation, singing and covers: random-weight Demucs and Chatterbox.

Test modules import the ``*_fixture`` functions; pytest registers them under their
``name``. Files are built once per session through ``_BUILT`` even when several modules
import them; the loaded model of ``singing_kit`` lives only as long as its module.
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
from engine.tts.chatterbox import ChatterboxBackend
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


def enrolled_voices(backend: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Voice]:
    """Two espeak voices enrolled with the real Chatterbox code, once per session."""
    key = ("voices", tmp_path_factory.getbasetemp())
    if key not in _BUILT:
        voices = {}
        for name, (espeak_voice, text) in VOICE_TEXTS.items():
            folder = tmp_path_factory.mktemp(f"voice-{name}")
            reference = espeak(folder / "reference.wav", text, voice=espeak_voice)
            conditionals = folder / "conds-chatterbox-original.pt"
            backend.save_conditionals(backend.make_conditionals(reference, 0.5), conditionals)
            voices[name] = Voice(conditionals, reference)
        _BUILT[key] = voices
    return _BUILT[key]


@pytest.fixture(scope="module", name="singing_kit")
def singing_kit_fixture(
    chatterbox_models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SingingKit]:
    """A loaded random Chatterbox with the session's two voices.

    Module scope: the model (1.4 GB resident) is freed when the module ends instead of
    staying loaded for the rest of the session; a later module loads it again (seconds).
    """
    single_thread()
    config = EngineConfig(
        data_dir=tmp_path_factory.mktemp("data"), device="cpu", models_dir=chatterbox_models_dir
    )
    backend = ChatterboxBackend(config, "cpu")
    backend.load()
    yield SingingKit(backend, enrolled_voices(backend, tmp_path_factory))
    backend.unload()


@pytest.fixture(name="executor")
def executor_fixture() -> Iterator[GpuExecutor]:
    worker = GpuExecutor("cpu", max_queued=16, idle_unload_s=3600, thread_setup=single_thread)
    yield worker
    worker.shutdown()
