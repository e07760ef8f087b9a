"""The cover orchestrator: song → stems → the transform stages → mix → file.

Model work (separation, conversion) goes to the GPU executor at ``Priority.COVER`` in
pieces, so live speech runs between them; cancelling the awaiting task cancels the
running piece. DSP stages need no model and run in a worker thread instead, so they
never hold the device queue. Every stage's result is cached under a key made of its
inputs' keys and its own settings: the same song with another voice skips separation,
and the same request twice costs a file copy. Cache writes happen behind the next
stage and are all on disk before :meth:`CoverPipeline.cover` returns.

The finished mix carries the Perth watermark (put on after loudness, before the encode,
and read back from the encoded file: :mod:`engine.cover.marking`). The stages between
separation and mixing are data (:mod:`engine.cover.stages`): each is looked up, computed
and stored by the same loop here.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from engine.cover.convert import VocalConverter
from engine.cover.encode import BITRATES_KBPS
from engine.cover.marking import MARK_TARGET, encode_marked
from engine.cover.output import cached_cover, cover_result, mix_and_master, store_and_deliver
from engine.cover.params import CoverParams
from engine.cover.result import CoverResult, StageProgress
from engine.cover.run import CoverRun
from engine.cover.stage import CoverJob, CoverStage, Lane, TrackTransform
from engine.cover.stage_cache import COVERS, CoverStageCache
from engine.cover.stages import COVER_STAGES
from engine.executor import GpuExecutor, Priority
from engine.separate.cache import cache_key
from engine.separate.demucs import DemucsSeparator
from engine.separate.progress import from_worker
from engine.separate.service import StemService
from engine.separate.song import DEFAULT_MAX_SONG_SECONDS, load_song
from engine.separate.stems import Stems, Track
from engine.watermark import Marker, OutputMarker

TRANSFORMS: tuple[tuple[CoverStage, TrackTransform], ...] = tuple(
    (stage, stage.transform) for stage in COVER_STAGES if stage.transform is not None
)


class CoverPipeline:
    """Makes covers; one instance serves every request (it holds no per-song state)."""

    def __init__(
        self,
        executor: GpuExecutor,
        separator: DemucsSeparator,
        cache_dir: Path,
        *,
        max_song_seconds: float = DEFAULT_MAX_SONG_SECONDS,
        max_song_bytes: int = 100 * 1024 * 1024,
        separate_piece_seconds: float = 30.0,
        convert_piece_seconds: float = 15.0,
        priority: Priority = Priority.COVER,
        marker: Marker | None = None,
    ) -> None:
        """``marker``: puts the watermark on every finished cover (Perth on ``executor``
        unless given)."""
        self.executor = executor
        self.marker: Marker = marker or OutputMarker(executor, priority=priority)
        self.priority = priority
        self.max_song_seconds = max_song_seconds
        self.max_song_bytes = max_song_bytes
        self.convert_piece_seconds = convert_piece_seconds
        self.stems = StemService(
            executor,
            separator,
            cache_dir,
            piece_seconds=separate_piece_seconds,
            max_song_seconds=max_song_seconds,
            priority=priority,
            write_behind=True,
        )
        self.caches = CoverStageCache(cache_dir)

    # the request -----------------------------------------------------------------------------
    async def cover(
        self,
        song: Path | Track,
        converter: VocalConverter,
        params: CoverParams | None = None,
        *,
        output: Path | None = None,
        progress: StageProgress | None = None,
    ) -> CoverResult:
        """Make (or fetch) the cover of ``song`` sung by ``converter``'s voice.

        ``output``: where to put the file (its suffix follows the format actually used);
        without it the result points into the cache. Raises ``SongTooLongError``,
        ``AudioRejectedError``, ``OutputTooLargeError``, or the converter's errors.
        """
        job = CoverJob(
            params or CoverParams(),
            converter,
            self.executor,
            self.priority,
            self.convert_piece_seconds,
        )
        run = CoverRun(progress)
        started = time.perf_counter()
        try:
            return await self._cover(song, job, output, run, started)
        finally:
            await self.caches.flush()
            await self.stems.flush()

    async def _cover(
        self, song: Path | Track, job: CoverJob, output: Path | None, run: CoverRun, started: float
    ) -> CoverResult:
        params = job.params
        stage_started = run.start("read")
        if isinstance(song, Track):
            mix_track = song
        else:
            mix_track = await asyncio.to_thread(
                load_song, song, max_seconds=self.max_song_seconds, max_bytes=self.max_song_bytes
            )
        source = await asyncio.to_thread(mix_track.sha256)
        run.done("read", stage_started)

        keys = self.keys(source, job)
        covers = self.caches.stage(COVERS)
        cached = await asyncio.to_thread(cached_cover, covers, keys["cover"], output)
        if cached is not None:
            run.hits.append("cover")
            run.timings["total"] = round(time.perf_counter() - started, 3)
            return cover_result(cached[0], cached[1], run)

        stage_started = run.start("separate")
        separated = await self.stems.separate(
            mix_track,
            from_worker(run.report("separate"), asyncio.get_running_loop()),
            source_sha256=source,
        )
        run.done("separate", stage_started, hit=separated.cache_hit)

        tracks, metadata = await self._transformed(separated.stems, job, keys, run)
        run.start("mix")
        finished = await asyncio.to_thread(
            mix_and_master, tracks[Lane.VOCALS], tracks[Lane.INSTRUMENTAL], params, run.timings
        )
        run.report("mix")(1.0)
        octaves = int(metadata.get("vocals", {}).get("octaves", 0))
        record = {
            "source_sha256": source,
            "method": job.converter.method,
            "converter": job.converter.cache_key,
            "semitones": params.semitones,
            "octaves": octaves,
            "inputs": {name: value for name, value in keys.items() if name != "cover"},
            "duration_s": round(finished.duration, 3),
        }
        stage_started = run.start("encode")
        with tempfile.TemporaryDirectory(prefix="parrot-cover-") as folder:
            marked = await encode_marked(self.marker, finished, params, Path(folder))
            record["watermark"] = {
                "confidence": round(marked.confidence, 3),
                "strength": marked.strength,
            }
            encoded, stored = await asyncio.to_thread(
                store_and_deliver, covers, marked.encoded, keys["cover"], record, output
            )
        run.done("encode", stage_started)
        if marked.confidence < MARK_TARGET:
            run.notes.append(f"the watermark reads only {marked.confidence:.0%} on this file")
        if encoded.bitrate_kbps < BITRATES_KBPS[encoded.format][0]:
            run.notes.append(
                f"encoded at {encoded.bitrate_kbps} kbps to fit the {params.max_bytes / 2**20:.1f}"
                " MB upload limit"
            )
        if encoded.format is not params.output_format:
            wanted = params.output_format.name
            run.notes.append(f"sent as {encoded.format.name}: {wanted} did not fit")
        run.timings["total"] = round(time.perf_counter() - started, 3)
        return cover_result(encoded.path, stored, run)

    # keys --------------------------------------------------------------------------------------
    def keys(self, source: str, job: CoverJob) -> dict[str, str]:
        """Every stage's cache key, from the song's digest and the request.

        ``stems``, one per transform stage (under its cache name), and ``cover`` over the
        last key of each lane and the mix settings.
        """
        stems = self.stems.key_for(source)
        keys = {"stems": stems}
        lanes = {Lane.VOCALS: stems, Lane.INSTRUMENTAL: stems}
        for _stage, transform in TRANSFORMS:
            key = cache_key(
                stage=transform.cache, **transform.key_inputs(job, lanes[transform.lane])
            )
            keys[transform.cache] = lanes[transform.lane] = key
        keys["cover"] = cache_key(
            stage="cover",
            effects=lanes[Lane.VOCALS],
            instrumental=lanes[Lane.INSTRUMENTAL],
            watermark=self.marker.key,
            **job.params.mix_settings(),
        )
        return keys

    # the transform stages ------------------------------------------------------------------------
    async def _transformed(
        self, stems: Stems, job: CoverJob, keys: dict[str, str], run: CoverRun
    ) -> tuple[dict[Lane, Track], dict[str, dict[str, Any]]]:
        """Each transform stage in turn, from the cache when it can; returns the final
        track of each lane and every stage's cache metadata (by cache name)."""
        tracks = {Lane.VOCALS: stems.vocals, Lane.INSTRUMENTAL: stems.instrumental}
        lane_keys = {Lane.VOCALS: keys["stems"], Lane.INSTRUMENTAL: keys["stems"]}
        metadata: dict[str, dict[str, Any]] = {}
        for stage, transform in TRANSFORMS:
            stage_started = run.start(stage.name)
            lane, key = transform.lane, keys[transform.cache]
            inputs = transform.key_inputs(job, lane_keys[lane])
            lane_keys[lane] = key
            if transform.passthrough(job):
                run.done(stage.name, stage_started)
                continue
            cached = await self.caches.fetch(transform.cache, key, lane.value)
            if cached is not None:
                tracks[lane], metadata[transform.cache] = cached
                run.done(stage.name, stage_started, hit=True)
                continue
            result, stored = await transform.compute(
                job, tracks[lane], inputs, run.report(stage.name)
            )
            self.caches.keep(transform.cache, key, lane.value, result, stored)
            tracks[lane], metadata[transform.cache] = result, stored
            run.done(stage.name, stage_started)
        return tracks, metadata
