"""Enrolment keeps each sample's training copy at the upload's own rate (at most 48 kHz),
beside the 24 kHz sample; training reads those copies, else falls back to the samples."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest
import soundfile

from bot.store import Store
from bot.store.audit import Who
from bot.store.models import Consent, ConsentPath, Visibility, VoiceSource
from bot.training.data import sample_copy_path, training_sources
from bot.voices.enrolment import VoiceEnroller
from bot.voices.files import VoiceLibrary
from engine.api import SampleLimits, VoiceEngine, keep_training_copy
from tests.enrolment_support import StandInEngine


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "data" / "parrot.db")
    try:
        yield opened
    finally:
        await opened.close()


def resampled(clip: Path, rate: int, folder: Path) -> Path:
    target = folder / f"speech-{rate}.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-ar", str(rate), str(target)],
        check=True,
    )
    return target


def test_copies_keep_the_uploads_rate_up_to_48_khz(
    speech_clips: dict[str, Path], tmp_path: Path
) -> None:
    high = resampled(speech_clips["wav"], 96_000, tmp_path)
    copy = keep_training_copy(high, tmp_path / "high.wav", SampleLimits())
    assert copy.sample_rate == 48_000 == soundfile.info(str(copy.path)).samplerate
    native = soundfile.info(str(speech_clips["wav"])).samplerate
    copy = keep_training_copy(speech_clips["mp3"], tmp_path / "mp3.wav", SampleLimits())
    assert copy.sample_rate == native and 3.0 < copy.duration_s < 8.0


async def test_enrolment_and_added_samples_keep_copies_that_training_reads(
    store: Store, tmp_path: Path, speech_clips: dict[str, Path]
) -> None:
    library = VoiceLibrary(store, tmp_path / "data")
    enroller = VoiceEnroller(store, library, cast(VoiceEngine, StandInEngine()), SampleLimits())
    voice, _ = await enroller.enroll(
        "Alice",
        [speech_clips["wav"]],
        owner_id=1,
        guild_id=2,
        visibility=Visibility.PRIVATE,
        source=VoiceSource.UPLOAD,
        consent=Consent.now(ConsentPath.DISCORD),
        who=Who.cli(),
    )
    voice, _ = await enroller.add_sample(
        voice,
        speech_clips["ogg"],
        original_name="voice-message.ogg",
        consent=Consent.now(ConsentPath.DISCORD),
        who=Who.cli(),
    )
    samples = await store.voices.samples(voice.id)
    copies = [sample_copy_path(library, voice.id, sample.id) for sample in samples]
    assert all(copy.is_file() for copy in copies)
    assert soundfile.info(str(copies[0])).samplerate == 22_050  # espeak-ng's own rate
    assert soundfile.info(str(copies[1])).samplerate == 48_000  # Opus decodes at 48 kHz

    copies[1].unlink()  # as for a sample enrolled before copies were kept
    sources = await training_sources(store, library, voice)
    assert sources.paths == [copies[0], library.path(samples[1].path)]
    assert sources.low_rate_samples == 1 and sources.recordings == 0
