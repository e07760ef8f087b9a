"""The cover orchestrator: song → stems → converted vocals → effects → mix → file.

Model work (separation, conversion) goes to the GPU executor at ``Priority.COVER`` in
pieces, so live speech runs between them; cancelling the awaiting task cancels the
running piece. DSP stages need no model and run in a worker thread instead, so they
never hold the device queue. Every stage's result is cached under a key made of its
inputs' keys and its own settings: the same song with another voice skips separation,
and the same request twice costs a file copy. Cache writes happen behind the next
stage and are all on disk before :meth:`CoverPipeline.cover` returns.
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.audio import Audio, AudioFormat, resample
from engine.cover.convert import VocalConverter
from engine.cover.effects import vocal_chain
from engine.cover.encode import BITRATES_KBPS, EncodedFile, encode_to_fit
from engine.cover.mix import fit_length, master, mix, shift_pitch
from engine.cover.params import CoverParams
from engine.cover.result import CoverResult, StageProgress
from engine.executor import CancelToken, GpuExecutor, Priority
from engine.files import atomic_copy
from engine.separate import (
    DEFAULT_MAX_SONG_SECONDS,
    DemucsSeparator,
    StageCache,
    Stems,
    StemService,
    Track,
    cache_key,
    load_song,
)
from engine.separate.cache import WriteBehind
from engine.separate.pieces import OverlapAdd
from engine.separate.progress import Progress, from_worker, scaled
from engine.singing.pitch import analyse_pitch, octaves_towards
from engine.singing.split import quiet_pieces

PITCH_ANALYSIS_RATE = 16_000
MAX_LEVEL_CHANGE_DB = 20.0


@dataclass(slots=True)
class _Run:
    """Book-keeping of one cover request."""

    progress: StageProgress | None
    timings: dict[str, float] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def start(self, stage: str) -> float:
        self.report(stage)(0.0)
        return time.perf_counter()

    def report(self, stage: str) -> Progress:
        callback = self.progress
        if callback is None:
            return lambda _: None
        return lambda fraction: callback(stage, fraction)

    def done(self, stage: str, started: float, *, hit: bool = False) -> None:
        self.timings[stage] = round(time.perf_counter() - started, 3)
        if hit:
            self.hits.append(stage)
        self.report(stage)(1.0)


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0


def match_level(samples: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Scale ``samples`` to the RMS of ``reference`` (at most ±20 dB)."""
    have, want = _rms(samples), _rms(reference)
    if have <= 0 or want <= 0:
        return samples
    limit = 10.0 ** (MAX_LEVEL_CHANGE_DB / 20.0)
    return (samples * min(limit, max(1.0 / limit, want / have))).astype(np.float32)


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
    ) -> None:
        self.executor = executor
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
        self.vocals_cache = StageCache(cache_dir, "vocals")
        self.instrumental_cache = StageCache(cache_dir, "instrumental")
        self.effects_cache = StageCache(cache_dir, "effects")
        self.covers_cache = StageCache(cache_dir, "covers")
        self._writes = WriteBehind()

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
        params = params or CoverParams()
        run = _Run(progress)
        started = time.perf_counter()
        try:
            return await self._cover(song, converter, params, output, run, started)
        finally:
            await self._writes.flush()
            await self.stems.flush()

    async def _cover(
        self,
        song: Path | Track,
        converter: VocalConverter,
        params: CoverParams,
        output: Path | None,
        run: _Run,
        started: float,
    ) -> CoverResult:
        stage_started = run.start("read")
        if isinstance(song, Track):
            mix_track = song
        else:
            mix_track = await asyncio.to_thread(
                load_song, song, max_seconds=self.max_song_seconds, max_bytes=self.max_song_bytes
            )
        source = await asyncio.to_thread(mix_track.sha256)
        run.done("read", stage_started)

        keys = self._keys(source, converter, params)
        cached = await asyncio.to_thread(self._cached_cover, keys["cover"], output)
        if cached is not None:
            run.hits.append("cover")
            run.timings["total"] = round(time.perf_counter() - started, 3)
            return self._result(cached[0], cached[1], run)

        stage_started = run.start("separate")
        separated = await self.stems.separate(
            mix_track,
            from_worker(run.report("separate"), asyncio.get_running_loop()),
            source_sha256=source,
        )
        run.done("separate", stage_started, hit=separated.cache_hit)

        vocals, octaves = await self._converted(separated.stems, converter, params, keys, run)
        instrumental = await self._shifted(separated.stems.instrumental, params, keys, run)
        processed = await self._effected(vocals, params, keys, run)

        run.start("mix")
        finished = await asyncio.to_thread(self._mix, processed, instrumental, params, run.timings)
        run.report("mix")(1.0)
        metadata = {
            "source_sha256": source,
            "method": converter.method,
            "converter": converter.cache_key,
            "semitones": params.semitones,
            "octaves": octaves,
            "inputs": {name: value for name, value in keys.items() if name != "cover"},
            "duration_s": round(finished.duration, 3),
        }
        stage_started = run.start("encode")
        encoded, record = await asyncio.to_thread(
            self._encode, finished, keys["cover"], params, metadata, output
        )
        run.done("encode", stage_started)
        if encoded.bitrate_kbps < BITRATES_KBPS[encoded.format][0]:
            run.notes.append(
                f"encoded at {encoded.bitrate_kbps} kbps to fit the {params.max_bytes / 2**20:.1f}"
                " MB upload limit"
            )
        if encoded.format is not params.output_format:
            wanted = params.output_format.name
            run.notes.append(f"sent as {encoded.format.name}: {wanted} did not fit")
        run.timings["total"] = round(time.perf_counter() - started, 3)
        return self._result(encoded.path, record, run)

    # keys --------------------------------------------------------------------------------------
    def _keys(self, source: str, converter: VocalConverter, params: CoverParams) -> dict[str, str]:
        stems = self.stems.key_for(source)
        vocals = cache_key(
            stage="vocals",
            stems=stems,
            method=converter.method,
            converter=converter.cache_key,
            semitones=params.semitones,
            fit_octaves=params.fit_octaves,
            piece_seconds=self.convert_piece_seconds,
        )
        instrumental = cache_key(stage="instrumental", stems=stems, semitones=params.semitones)
        effects = cache_key(stage="effects", vocals=vocals, **params.effects_settings())
        cover = cache_key(
            stage="cover", effects=effects, instrumental=instrumental, **params.mix_settings()
        )
        return {
            "stems": stems,
            "vocals": vocals,
            "instrumental": instrumental,
            "effects": effects,
            "cover": cover,
        }

    # conversion ----------------------------------------------------------------------------
    async def _converted(
        self,
        stems: Stems,
        converter: VocalConverter,
        params: CoverParams,
        keys: dict[str, str],
        run: _Run,
    ) -> tuple[Track, int]:
        stage_started = run.start("convert")
        key = keys["vocals"]
        await self._writes.settle(key)
        cached = await asyncio.to_thread(self.vocals_cache.load_entry, key, ["vocals"])
        if cached is not None:
            tracks, metadata = cached
            run.done("convert", stage_started, hit=True)
            return tracks["vocals"], int(metadata.get("octaves", 0))

        source = stems.vocals.mono()
        octaves = 0
        if params.fit_octaves:
            octaves = await asyncio.to_thread(self._octaves, source, converter)
        semitones = params.semitones + 12 * octaves
        pieces = quiet_pieces(source, self.convert_piece_seconds)
        joined = OverlapAdd((), len(source))
        report = from_worker(run.report("convert"), asyncio.get_running_loop())
        for piece in pieces:
            chunk = Audio(source.samples[piece.start : piece.stop], source.sample_rate)
            converted = await self.executor.run(
                functools.partial(
                    self._convert_piece,
                    converter,
                    chunk,
                    semitones,
                    scaled(report, piece.index / len(pieces), (piece.index + 1) / len(pieces)),
                ),
                priority=self.priority,
                label=f"convert {piece.index + 1}/{len(pieces)}",
            )
            joined.add(piece, converted)
        samples = match_level(joined.result(len(pieces)), source.samples)
        vocals = Track(samples[None, :], source.sample_rate)
        metadata = {
            "method": converter.method,
            "converter": converter.cache_key,
            "semitones": params.semitones,
            "octaves": octaves,
            "pieces": len(pieces),
            "duration_s": round(vocals.duration, 3),
        }
        self._writes.start(key, self.vocals_cache.store, key, {"vocals": vocals}, metadata)
        run.done("convert", stage_started)
        return vocals, octaves

    @staticmethod
    def _octaves(source: Audio, converter: VocalConverter) -> int:
        """Octaves that bring the song's melody nearest to the voice's own pitch."""
        voice = converter.voice_pitch_hz
        if voice is None:
            return 0
        melody = analyse_pitch(resample(source, PITCH_ANALYSIS_RATE)).median_hz()
        return octaves_towards(melody, voice)

    @staticmethod
    def _convert_piece(
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

    # DSP stages ----------------------------------------------------------------------------
    async def _shifted(
        self, instrumental: Track, params: CoverParams, keys: dict[str, str], run: _Run
    ) -> Track:
        stage_started = run.start("shift")
        if params.semitones == 0:
            run.done("shift", stage_started)
            return instrumental
        key = keys["instrumental"]
        await self._writes.settle(key)
        cached = await asyncio.to_thread(self.instrumental_cache.load, key, ["instrumental"])
        if cached is not None:
            run.done("shift", stage_started, hit=True)
            return cached["instrumental"]
        shifted = await asyncio.to_thread(shift_pitch, instrumental, params.semitones)
        metadata = {"semitones": params.semitones, "stems": keys["stems"]}
        self._writes.start(
            key, self.instrumental_cache.store, key, {"instrumental": shifted}, metadata
        )
        run.done("shift", stage_started)
        return shifted

    async def _effected(
        self, vocals: Track, params: CoverParams, keys: dict[str, str], run: _Run
    ) -> Track:
        stage_started = run.start("effects")
        key = keys["effects"]
        await self._writes.settle(key)
        cached = await asyncio.to_thread(self.effects_cache.load, key, ["vocals"])
        if cached is not None:
            run.done("effects", stage_started, hit=True)
            return cached["vocals"]
        processed = await asyncio.to_thread(
            vocal_chain,
            vocals.samples[0],
            vocals.sample_rate,
            high_pass_hz=params.high_pass_hz,
            compress_vocals=params.compress,
            wet=params.reverb,
        )
        track = Track(processed, vocals.sample_rate)
        metadata = {"vocals": keys["vocals"], **params.effects_settings()}
        self._writes.start(key, self.effects_cache.store, key, {"vocals": track}, metadata)
        run.done("effects", stage_started)
        return track

    @staticmethod
    def _mix(
        vocals: Track, instrumental: Track, params: CoverParams, timings: dict[str, float]
    ) -> Track:
        started = time.perf_counter()
        mixed = mix(
            vocals,
            instrumental,
            vocal_gain_db=params.vocal_gain_db,
            instrumental_gain_db=params.instrumental_gain_db,
        )
        finished = master(mixed, target_lufs=params.target_lufs)
        timings["mix"] = round(time.perf_counter() - started, 3)
        return finished

    # output --------------------------------------------------------------------------------
    def _encode(
        self,
        track: Track,
        key: str,
        params: CoverParams,
        metadata: dict[str, Any],
        output: Path | None,
    ) -> tuple[EncodedFile, dict[str, Any]]:
        with tempfile.TemporaryDirectory(prefix="parrot-cover-") as folder:
            encoded = encode_to_fit(
                track,
                Path(folder) / "cover",
                max_bytes=params.max_bytes,
                preferred=params.output_format,
            )
            filename = encoded.path.name
            record = {
                **metadata,
                "format": encoded.format.value,
                "bitrate_kbps": encoded.bitrate_kbps,
                "size_bytes": encoded.size_bytes,
                "file": filename,
            }
            stored = self.covers_cache.store_file(key, encoded.path, filename, record)
        delivered = self._deliver(stored, output)
        return EncodedFile(
            delivered, encoded.format, encoded.bitrate_kbps, encoded.size_bytes, encoded.attempts
        ), record

    @staticmethod
    def _deliver(stored: Path, output: Path | None) -> Path:
        if output is None:
            return stored
        target = output.with_suffix(stored.suffix)
        atomic_copy(stored, target)
        return target

    def _cached_cover(self, key: str, output: Path | None) -> tuple[Path, dict[str, Any]] | None:
        metadata = self.covers_cache.metadata(key)
        if metadata is None or "file" not in metadata:
            return None
        stored = self.covers_cache.path(key, str(metadata["file"]))
        if stored is None:
            return None
        return self._deliver(stored, output), metadata

    @staticmethod
    def _result(path: Path, record: dict[str, Any], run: _Run) -> CoverResult:
        return CoverResult(
            path=path,
            duration_s=float(record.get("duration_s", 0.0)),
            method=str(record.get("method", "")),
            format=AudioFormat(record.get("format", AudioFormat.OGG_OPUS.value)),
            bitrate_kbps=int(record.get("bitrate_kbps", 0)),
            size_bytes=int(record.get("size_bytes", path.stat().st_size)),
            semitones=int(record.get("semitones", 0)),
            octaves=int(record.get("octaves", 0)),
            timings=dict(run.timings),
            cache_hits=tuple(run.hits),
            notes=tuple(run.notes),
        )
