"""The finished cover: mixed, encoded to fit its byte budget, stored and delivered."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from engine.audio import AudioFormat
from engine.cover.encode import EncodedFile, encode_to_fit
from engine.cover.mix import master, mix
from engine.cover.params import CoverParams
from engine.cover.result import CoverResult
from engine.cover.run import CoverRun
from engine.files import atomic_copy
from engine.separate.cache import StageCache
from engine.separate.stems import Track


def mix_and_master(
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


def deliver(stored: Path, output: Path | None) -> Path:
    """The cached file itself, or a copy at ``output`` (its suffix follows the format)."""
    if output is None:
        return stored
    target = output.with_suffix(stored.suffix)
    atomic_copy(stored, target)
    return target


def encode_in(folder: Path, track: Track, params: CoverParams) -> EncodedFile:
    """Encode within ``params.max_bytes`` into ``folder`` (a scratch folder); blocking."""
    return encode_to_fit(
        track, folder / "cover", max_bytes=params.max_bytes, preferred=params.output_format
    )


def store_and_deliver(
    covers: StageCache,
    encoded: EncodedFile,
    key: str,
    metadata: dict[str, Any],
    output: Path | None,
) -> tuple[EncodedFile, dict[str, Any]]:
    """Keep the encoded file in the cache and deliver it; blocking."""
    filename = encoded.path.name
    record = {
        **metadata,
        "format": encoded.format.value,
        "bitrate_kbps": encoded.bitrate_kbps,
        "size_bytes": encoded.size_bytes,
        "file": filename,
    }
    stored = covers.store_file(key, encoded.path, filename, record)
    delivered = deliver(stored, output)
    return EncodedFile(
        delivered, encoded.format, encoded.bitrate_kbps, encoded.size_bytes, encoded.attempts
    ), record


def cached_cover(
    covers: StageCache, key: str, output: Path | None
) -> tuple[Path, dict[str, Any]] | None:
    """The finished file of an identical earlier request, delivered; blocking."""
    metadata = covers.metadata(key)
    if metadata is None or "file" not in metadata:
        return None
    stored = covers.path(key, str(metadata["file"]))
    if stored is None:
        return None
    return deliver(stored, output), metadata


def cover_result(path: Path, record: dict[str, Any], run: CoverRun) -> CoverResult:
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
