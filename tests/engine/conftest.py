"""Engine fixtures: real speech clips and a random-weight Chatterbox checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.checkpoints.chatterbox import chatterbox_checkpoint, shrunk_t3
from tests.engine.speech import convert, espeak


@pytest.fixture(scope="session")
def speech_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same ~6 s of real speech as wav, mp3 and Ogg/Opus (a Discord voice message)."""
    folder = tmp_path_factory.mktemp("speech")
    wav = espeak(folder / "speech.wav")
    return {
        "wav": wav,
        "mp3": convert(wav, folder / "speech.mp3", "-c:a", "libmp3lame", "-b:a", "96k"),
        "ogg": convert(wav, folder / "speech.ogg", "-c:a", "libopus", "-b:a", "32k"),
    }


@pytest.fixture(scope="session")
def short_speech_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """About 1.5 s of speech per clip, in three formats."""
    folder = tmp_path_factory.mktemp("short-speech")
    wav = espeak(folder / "short.wav", "Hello, this is my voice.")
    return {
        "wav": wav,
        "mp3": convert(wav, folder / "short.mp3", "-c:a", "libmp3lame", "-b:a", "96k"),
        "ogg": convert(wav, folder / "short.ogg", "-c:a", "libopus", "-b:a", "32k"),
    }


@pytest.fixture(scope="session")
def chatterbox_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A PARROT_MODELS_DIR whose ``chatterbox`` folder is the cached random checkpoint.

    T3 stays shrunk for the whole session: the checkpoint only loads into the small T3.
    """
    with shrunk_t3():
        checkpoint = chatterbox_checkpoint()
        models = tmp_path_factory.mktemp("models")
        (models / "chatterbox").symlink_to(checkpoint, target_is_directory=True)
        yield models
