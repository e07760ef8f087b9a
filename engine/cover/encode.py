"""Encoding the finished cover so that it fits a byte budget (an upload limit).

The bitrate is chosen from the duration and the byte budget; if the file still comes
out too big, the next lower bitrate is tried, then the other format. When even the
lowest bitrate cannot fit, the error says how long a song could be.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.audio import AudioFormat
from engine.audio.encode import ffmpeg_encode_pcm
from engine.errors import ParrotError, as_sentence
from engine.files import atomic_copy
from engine.separate.stems import Track

BITRATES_KBPS: dict[AudioFormat, tuple[int, ...]] = {
    AudioFormat.OGG_OPUS: (160, 128, 112, 96, 80, 64, 56, 48, 40, 32, 24),
    AudioFormat.MP3: (256, 192, 160, 128, 112, 96, 80, 64, 56, 48, 40, 32),
}
_OUTPUT_RATES = {AudioFormat.OGG_OPUS: 48_000, AudioFormat.MP3: 44_100}
CONTAINER_MARGIN = 0.96
"""Share of the budget given to audio; the rest covers container pages and headers."""
ENCODE_TIMEOUT_S = 600.0


class OutputTooLargeError(ParrotError, ValueError):
    """Even the lowest bitrate would not fit the byte limit; the message says what would."""

    def for_member(self) -> str:
        return as_sentence(f"The cover would not fit: {self}")


@dataclass(frozen=True, slots=True)
class EncodedFile:
    path: Path
    format: AudioFormat
    bitrate_kbps: int
    size_bytes: int
    attempts: int
    """Encodes it took (1 when the first bitrate fitted)."""


def bitrate_for(fmt: AudioFormat, duration_s: float, max_bytes: int) -> int | None:
    """The highest standard bitrate whose file should fit, or None if none would."""
    budget_kbps = max_bytes * 8 * CONTAINER_MARGIN / max(duration_s, 0.1) / 1000.0
    return next((rate for rate in BITRATES_KBPS[fmt] if rate <= budget_kbps), None)


def encode_track(track: Track, path: Path, fmt: AudioFormat, bitrate_kbps: int) -> None:
    """Write ``track`` (any channels) as ``fmt`` with ffmpeg; ``path`` is overwritten."""
    if fmt is AudioFormat.WAV:
        raise ValueError("WAV has no bitrate; use engine.audio.write_wav")
    ffmpeg_encode_pcm(
        track.samples.T,
        track.sample_rate,
        path,
        fmt,
        bitrate=f"{bitrate_kbps}k",
        output_rate=_OUTPUT_RATES[fmt],
        timeout=ENCODE_TIMEOUT_S,
    )


def _ladder(fmt: AudioFormat, duration_s: float, max_bytes: int) -> list[int]:
    first = bitrate_for(fmt, duration_s, max_bytes)
    if first is None:
        return []
    return [rate for rate in BITRATES_KBPS[fmt] if rate <= first]


def _lowest_kbps() -> int:
    return min(min(rates) for rates in BITRATES_KBPS.values())


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MB" if count >= 2**20 else f"{count / 1024:.0f} KB"


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def encode_to_fit(
    track: Track,
    path: Path,
    *,
    max_bytes: int,
    preferred: AudioFormat = AudioFormat.OGG_OPUS,
) -> EncodedFile:
    """Encode ``track`` to ``path`` (atomically) in at most ``max_bytes``; blocking."""
    if preferred is AudioFormat.WAV:
        raise ValueError("a size-limited cover must be Opus or MP3")
    formats = [preferred, *(fmt for fmt in BITRATES_KBPS if fmt is not preferred)]
    attempts = 0
    with tempfile.TemporaryDirectory(prefix="parrot-cover-") as folder:
        for fmt in formats:
            candidate = Path(folder) / f"cover.{fmt.value}"
            for bitrate in _ladder(fmt, track.duration, max_bytes):
                attempts += 1
                encode_track(track, candidate, fmt, bitrate)
                size = candidate.stat().st_size
                if size <= max_bytes:
                    target = path.with_suffix(f".{fmt.value}")
                    atomic_copy(candidate, target)
                    return EncodedFile(target, fmt, bitrate, size, attempts)
    lowest = _lowest_kbps()
    longest = max_bytes * 8 * CONTAINER_MARGIN / (lowest * 1000.0)
    raise OutputTooLargeError(
        f"The cover is {_clock(track.duration)} long and does not fit in {_size(max_bytes)} "
        f"even at {lowest} kbps; about {_clock(longest)} would fit."
    )
