"""Covers through the Engine facade: the method chosen per voice, RVC and zero-shot on
random weights, the stage cache across requests, and the checks that fail fast."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import soundfile

from engine.config import EngineConfig, SingingMethod
from engine.convert import RvcCheckpointError, RvcIndexError
from engine.cover import STAGES, CoverParams
from engine.cover.method import NoSingingModelError
from engine.engine import Engine, SampleLimits
from engine.separate import DemucsNotDownloadedError
from engine.singing import SingingParams
from engine.tts.profile import VoiceProfile
from tests.checkpoints.rvc import small_rvc_voice, write_index
from tests.engine.cover_fixtures import song_file_fixture  # noqa: F401

pytestmark = pytest.mark.asyncio(loop_scope="module")

FAST_SINGING = SingingParams(decoder_steps=1, seed=0)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def engine(
    cover_models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Engine]:
    config = EngineConfig(
        data_dir=tmp_path_factory.mktemp("cover-data"),
        device="cpu",
        models_dir=cover_models_dir,
        torch_threads=1,
    )
    parrot_engine = Engine(config)
    yield parrot_engine
    await parrot_engine.shutdown()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def voice(
    engine: Engine, short_speech_clips: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> VoiceProfile:
    folder = tmp_path_factory.mktemp("voice")
    profile, _ = await engine.enroll(
        folder, [short_speech_clips["wav"]], SampleLimits(min_seconds=1.0)
    )
    return profile


@pytest.fixture(scope="module")
def singing_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("rvc")
    return small_rvc_voice("v2", 40_000), write_index(folder / "voice.index", 768, count=64)


def seconds_of(path: Path) -> float:
    return soundfile.info(path).duration


async def test_a_voice_without_a_singing_model_sings_zero_shot(
    engine: Engine, voice: VoiceProfile, song_file: Path, tmp_path: Path
) -> None:
    stages: list[str] = []
    result = await engine.cover(
        song_file,
        voice,
        singing=FAST_SINGING,
        output=tmp_path / "zero-shot.ogg",
        progress=lambda stage, _fraction: stages.append(stage),
    )
    assert result.method == "zero-shot"
    assert result.path.is_file()
    assert seconds_of(result.path) == pytest.approx(seconds_of(song_file), abs=0.1)
    seen = list(dict.fromkeys(stages))
    assert seen == [stage for stage in STAGES if stage in seen]
    assert {"separate", "convert", "encode"} <= set(seen)


async def test_a_voice_with_a_singing_model_sings_through_rvc_and_is_cached(
    engine: Engine,
    voice: VoiceProfile,
    singing_model: tuple[Path, Path],
    song_file: Path,
    tmp_path: Path,
) -> None:
    params = CoverParams(semitones=2)
    first = await engine.cover(
        song_file, voice, singing_model=singing_model, params=params, output=tmp_path / "a.ogg"
    )
    assert first.method == "rvc"
    assert first.octaves == 0
    assert seconds_of(first.path) == pytest.approx(seconds_of(song_file), abs=0.1)
    # The zero-shot cover of the same song left its stems: only conversion onwards ran.
    assert "separate" in first.cache_hits

    started = time.perf_counter()
    again = await engine.cover(
        song_file, voice, singing_model=singing_model, params=params, output=tmp_path / "b.ogg"
    )
    assert again.cache_hits == ("cover",)
    assert again.path.read_bytes() == first.path.read_bytes()
    assert time.perf_counter() - started < sum(first.timings.values())


async def test_rvc_is_refused_for_a_voice_without_a_singing_model(
    engine: Engine, voice: VoiceProfile, song_file: Path
) -> None:
    with pytest.raises(NoSingingModelError, match="attach an RVC model"):
        await engine.cover(song_file, voice, method=SingingMethod.RVC)
    with pytest.raises(NoSingingModelError):
        await engine.check_cover_available(SingingMethod.RVC, has_singing_model=False)


async def test_availability_names_the_method_it_would_use(engine: Engine) -> None:
    auto = SingingMethod.AUTO
    assert await engine.check_cover_available(auto, has_singing_model=True) is SingingMethod.RVC
    assert (
        await engine.check_cover_available(auto, has_singing_model=False) is SingingMethod.ZERO_SHOT
    )


async def test_missing_demucs_fails_at_once_with_the_download_command(
    chatterbox_models_dir: Path, tmp_path: Path
) -> None:
    config = EngineConfig(data_dir=tmp_path, device="cpu", models_dir=chatterbox_models_dir)
    bare = Engine(config)
    try:
        started = time.perf_counter()
        with pytest.raises(DemucsNotDownloadedError, match="parrot models download demucs"):
            await bare.check_cover_available(SingingMethod.ZERO_SHOT, has_singing_model=False)
        assert time.perf_counter() - started < 10
    finally:
        await bare.shutdown()


async def test_singing_models_are_checked_when_attached(
    engine: Engine, singing_model: tuple[Path, Path], tmp_path: Path
) -> None:
    model, index = singing_model
    info = await engine.describe_singing_model(model, index)
    assert (info.version.value, info.sample_rate, info.has_f0) == ("v2", 40_000, True)

    v1_index = write_index(tmp_path / "v1.index", 256, count=64)
    with pytest.raises(RvcIndexError, match="v1"):
        await engine.describe_singing_model(model, v1_index)
    not_a_model = tmp_path / "song.pth"
    not_a_model.write_bytes(b"ID3 this is an mp3, renamed")
    with pytest.raises(RvcCheckpointError):
        await engine.describe_singing_model(not_a_model)


async def test_the_cover_cache_is_pruned_to_its_limit(engine: Engine) -> None:
    folder = engine.config.data_dir / "cache" / "covers"
    entries = [entry for stage in folder.iterdir() for entry in stage.iterdir()]
    assert entries  # the covers above left their stages
    assert await engine.prune_cover_cache(10**12) == 0
    assert await engine.prune_cover_cache(0) == len(entries)
    assert not [entry for stage in folder.iterdir() for entry in stage.iterdir()]
