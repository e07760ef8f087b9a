"""Demucs separation on a tiny random HTDemucs loaded by demucs's own code; the stems cache."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from engine.executor import CancelToken, GpuExecutor, JobCancelledError
from engine.separate import (
    DemucsCheckpointError,
    DemucsNotDownloadedError,
    DemucsSeparator,
    OverlapAdd,
    SongTooLongError,
    StageCache,
    StemService,
    Track,
    load_demucs,
    load_song,
    plan_pieces,
    remote_files,
)
from tests.checkpoints.demucs import demucs_repo
from tests.engine.cover_fixtures import (
    demucs_models_dir_fixture,  # noqa: F401
    executor_fixture,  # noqa: F401
    single_thread,
    song_file_fixture,  # noqa: F401
)
from tests.engine.synthetic_music import synthetic_song

RATE = 44_100


def count_model_calls(separator: DemucsSeparator) -> list[int]:
    """A counter of forward passes through every network in the loaded bag."""
    calls = [0]

    def hook(*_: object) -> None:
        calls[0] += 1

    for member in separator.model.models:
        member.register_forward_hook(hook)
    return calls


def song_track(seconds: float) -> Track:
    samples, _ = synthetic_song(seconds, RATE)
    return Track(samples, RATE)


# --- pieces ----------------------------------------------------------------------------------
@pytest.mark.parametrize("frames", [1000, 44_100 * 7 + 13, 44_100 * 95])
def test_pieces_cover_the_signal_and_rejoin_exactly(frames: int) -> None:
    pieces = plan_pieces(frames, piece_frames=44_100 * 30, overlap_frames=44_100 * 2)
    assert pieces[0].start == 0 and pieces[-1].stop == frames
    signal = np.random.default_rng(0).standard_normal((2, frames)).astype(np.float32)
    joined = OverlapAdd((2,), frames)
    for piece in pieces:
        joined.add(piece, signal[:, piece.start : piece.stop])
    np.testing.assert_allclose(joined.result(len(pieces)), signal, atol=1e-5)


def test_pieces_are_even_with_no_tiny_remainder() -> None:
    pieces = plan_pieces(44_100 * 61, piece_frames=44_100 * 30, overlap_frames=44_100)
    cores = [p.frames - (p.fade_in + p.fade_out) // 2 for p in pieces]
    assert len(pieces) == 2
    assert max(cores) - min(cores) <= 1


# --- weights ---------------------------------------------------------------------------------
def test_local_repo_loads_through_demucs(demucs_models_dir: Path) -> None:
    from demucs.apply import BagOfModels
    from demucs.htdemucs import HTDemucs

    single = load_demucs("htdemucs", models_dir=demucs_models_dir)
    assert isinstance(single, BagOfModels)
    assert [type(m) for m in single.models] == [HTDemucs]
    assert single.sources == ["drums", "bass", "other", "vocals"]
    fine_tuned = load_demucs("htdemucs_ft", models_dir=demucs_models_dir)
    assert len(fine_tuned.models) == 4
    assert fine_tuned.weights[3] == [0.0, 0.0, 0.0, 1.0]


def test_the_hugging_face_layout_loads_too(tmp_path: Path) -> None:
    from tests.checkpoints.demucs import write_hub_layout

    folder = tmp_path / "demucs"
    folder.mkdir()
    write_hub_layout(folder)
    model = load_demucs("htdemucs", models_dir=tmp_path)
    assert len(model.models) == 1 and float(model.models[0].segment) == pytest.approx(7.8)


def test_missing_weights_fail_fast_offline_and_name_the_command(tmp_path: Path) -> None:
    started = time.perf_counter()
    with pytest.raises(DemucsNotDownloadedError) as caught:
        load_demucs("htdemucs", models_dir=tmp_path)
    assert time.perf_counter() - started < 1.0
    message = str(caught.value)
    assert "parrot models download demucs" in message
    assert str(tmp_path / "demucs") in message


def test_downloads_can_be_refused_without_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    started = time.perf_counter()
    with pytest.raises(DemucsNotDownloadedError):
        load_demucs("htdemucs", models_dir=tmp_path, allow_download=False)
    assert time.perf_counter() - started < 1.0


def test_a_bag_listing_a_missing_model_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "demucs"
    folder.mkdir()
    (folder / "htdemucs.yaml").write_text("models: ['cafe1234']\n")
    with pytest.raises(DemucsCheckpointError, match="cafe1234"):
        load_demucs("htdemucs", models_dir=tmp_path)


def test_a_damaged_model_file_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "demucs"
    folder.mkdir()
    (original,) = demucs_repo().glob("0badc0de-*.th")
    (folder / original.name).write_bytes(original.read_bytes()[:-100])
    (folder / "htdemucs.yaml").write_text("models: ['0badc0de']\n")
    with pytest.raises(DemucsCheckpointError, match="damaged"):
        load_demucs("htdemucs", models_dir=tmp_path)


def test_the_download_plan_uses_demucs_own_file_list() -> None:
    assert remote_files("htdemucs") == {
        "955717e8-8726e21a.th": "https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/"
        "955717e8-8726e21a.th"
    }
    assert len(remote_files("htdemucs_ft")) == 4


# --- song reading ----------------------------------------------------------------------------
def test_songs_are_read_as_stereo_44k(song_file: Path) -> None:
    track = load_song(song_file)
    assert track.channels == 2 and track.sample_rate == RATE
    assert abs(track.duration - 3.0) < 0.01


def test_too_long_song_is_refused_before_decoding(song_file: Path) -> None:
    with pytest.raises(SongTooLongError, match=r"0:03 long; covers are limited to 0:02"):
        load_song(song_file, max_seconds=2.0)


# --- the stems cache -------------------------------------------------------------------------
def test_stage_cache_round_trip_keeps_loud_samples(tmp_path: Path) -> None:
    cache = StageCache(tmp_path, "stems")
    loud = Track(np.array([[0.0, 1.7, -2.5, 0.25]], dtype=np.float32), RATE)
    assert cache.load("k", ["vocals"]) is None
    cache.store("k", {"vocals": loud}, {"model": "m"})
    loaded = cache.load("k", ["vocals"])
    assert loaded is not None
    np.testing.assert_allclose(loaded["vocals"].samples, loud.samples, atol=1e-5)
    (cache.folder("k") / "metadata.json").unlink()
    assert cache.load("k", ["vocals"]) is None  # no metadata: an interrupted write


# --- separation ------------------------------------------------------------------------------
async def test_stems_are_cached_and_the_second_call_skips_the_model(
    executor: GpuExecutor, demucs_models_dir: Path, tmp_path: Path
) -> None:
    separator = DemucsSeparator("htdemucs", models_dir=demucs_models_dir)
    service = StemService(executor, separator, tmp_path / "cache")
    mix = song_track(3.0)
    seen: list[float] = []
    first = await service.separate(mix, seen.append)
    assert not first.cache_hit
    for stem in (first.stems.vocals, first.stems.instrumental):
        assert stem.samples.shape == (2, mix.frames) and stem.sample_rate == RATE
        assert np.all(np.isfinite(stem.samples))
    assert seen == sorted(seen) and seen[-1] == 1.0

    folder = service.cache.folder(first.key)
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["model"] == "htdemucs"
    assert metadata["source_sha256"] == mix.sha256()
    assert metadata["duration_s"] == pytest.approx(3.0)
    assert "created" in metadata
    vocals_file, rate = soundfile.read(folder / "vocals.flac")
    assert rate == RATE and vocals_file.shape == (mix.frames, 2)

    calls = count_model_calls(separator)
    again = await service.separate(mix)
    assert again.cache_hit and again.key == first.key
    assert calls[0] == 0
    np.testing.assert_allclose(again.stems.vocals.samples, first.stems.vocals.samples, atol=1e-4)


async def test_long_song_is_rejected_before_separating(
    executor: GpuExecutor, demucs_models_dir: Path, tmp_path: Path
) -> None:
    separator = DemucsSeparator("htdemucs", models_dir=demucs_models_dir)
    service = StemService(executor, separator, tmp_path, max_song_seconds=2.0)
    with pytest.raises(SongTooLongError, match="limited to 0:02"):
        await service.separate(song_track(3.0))
    assert not separator.loaded


def test_cancelling_stops_between_demucs_segments(demucs_models_dir: Path) -> None:
    single_thread()
    separator = DemucsSeparator("htdemucs", models_dir=demucs_models_dir)
    calls = count_model_calls(separator)
    plan = separator.plan(song_track(10.0), piece_seconds=60.0)  # one piece, two segments
    token = CancelToken()
    with pytest.raises(JobCancelledError):
        separator.separate_piece(plan, 0, token, lambda _: token.cancel())
    assert calls[0] == 1


async def test_separation_gives_way_to_speech_between_pieces(
    executor: GpuExecutor, demucs_models_dir: Path, tmp_path: Path
) -> None:
    from engine.executor import Priority

    separator = DemucsSeparator("htdemucs", models_dir=demucs_models_dir)
    service = StemService(executor, separator, tmp_path, piece_seconds=1.5)
    order: list[str] = []
    separator_piece = separator.separate_piece

    def recording_piece(*args, **kwargs):  # type: ignore[no-untyped-def]
        order.append("piece")
        return separator_piece(*args, **kwargs)

    separator.separate_piece = recording_piece  # type: ignore[method-assign]
    task = asyncio.create_task(service.separate(song_track(3.0)))
    while not order:
        await asyncio.sleep(0.01)
    await executor.run(lambda _: order.append("speech"), priority=Priority.SPEECH)
    await task
    assert order == ["piece", "speech", "piece"]


def test_pruning_drops_the_least_recently_used_entries(tmp_path: Path) -> None:
    import os

    from engine.separate.cache import prune_cache

    stems, vocals = StageCache(tmp_path, "stems"), StageCache(tmp_path, "vocals")
    track = Track(np.zeros((1, RATE), dtype=np.float32), RATE)
    for cache, key, used in ((stems, "old", 100.0), (vocals, "new", 300.0), (stems, "mid", 200.0)):
        cache.store(key, {"vocals": track}, {})
        metadata = cache.folder(key) / "metadata.json"
        os.utime(metadata, (used, used))
    (tmp_path / "stems" / "broken").mkdir()  # an interrupted write: no metadata
    one_entry = sum(p.stat().st_size for p in stems.folder("old").iterdir())
    removed = prune_cache(tmp_path, max_bytes=2 * one_entry + 100)
    assert [path.name for path in removed] == ["broken", "old"]
    assert vocals.load("new", ["vocals"]) is not None
    assert stems.load("mid", ["vocals"]) is not None
