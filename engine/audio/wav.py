"""What a WAV file's header says about it, read without trusting it.

ffmpeg reads a WAV up to its end whatever the header claims, so a header that lies about
its size is harmless to decode; it is still worth knowing when the clip turns out to be
unusable (a damaged file, not a bad recording). IEEE-float WAVs are the one common format
that can store values that are not audio at all (NaN, infinity): they are counted here on
the raw data, because resampling smears or hides them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PCM = 0x0001
IEEE_FLOAT = 0x0003
EXTENSIBLE = 0xFFFE
STREAMING_SIZES = frozenset({0, 0xFFFFFFFF, 0x7FFFF000, 0x7FFFFFFF})
"""Data sizes written by tools that stream to a pipe and never come back to fix the header
(ffmpeg writes 0xFFFFFFFF, sox 0x7FFFF000): not a lie, only "unknown"."""
MAX_CHUNKS = 64  # a header is a handful of chunks; more means garbage
SCAN_BLOCK_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class WavLayout:
    """Where a RIFF/WAVE file's audio data starts and how much its header promises."""

    format_tag: int
    channels: int
    bits_per_sample: int
    data_offset: int
    declared_bytes: int
    """The data chunk's size field."""
    present_bytes: int
    """The bytes really in the file after the data chunk's header."""

    @property
    def is_float(self) -> bool:
        return self.format_tag == IEEE_FLOAT and self.bits_per_sample in (32, 64)

    @property
    def overstated(self) -> bool:
        """The header claims more audio than the file holds (more than one frame short)."""
        frame = max(1, self.channels * self.bits_per_sample // 8)
        return self.declared_bytes > self.present_bytes + frame

    @property
    def streamed(self) -> bool:
        """The size field holds a "length unknown" placeholder rather than a claim."""
        return self.declared_bytes in STREAMING_SIZES


def read_wav_layout(path: Path) -> WavLayout | None:
    """The layout of a plain RIFF/WAVE file, or None for anything else (RF64, other
    containers, a header too broken to follow)."""
    try:
        with path.open("rb") as handle:
            size = path.stat().st_size
            if handle.read(4) != b"RIFF":
                return None
            handle.seek(8)
            if handle.read(4) != b"WAVE":
                return None
            fmt: tuple[int, int, int] | None = None
            for _ in range(MAX_CHUNKS):
                header = handle.read(8)
                if len(header) < 8:
                    return None
                chunk_id, chunk_size = header[:4], struct.unpack("<I", header[4:])[0]
                if chunk_id == b"data":
                    if fmt is None:
                        return None
                    offset = handle.tell()
                    tag, channels, bits = fmt
                    return WavLayout(tag, channels, bits, offset, chunk_size, size - offset)
                body_start = handle.tell()
                if chunk_id == b"fmt ":
                    fmt = _read_format(handle.read(min(chunk_size, 40)))
                handle.seek(body_start + chunk_size + (chunk_size & 1))
    except OSError:
        return None
    return None


def _read_format(body: bytes) -> tuple[int, int, int] | None:
    if len(body) < 16:
        return None
    tag, channels, _rate, _byte_rate, _align, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == EXTENSIBLE and len(body) >= 26:
        tag = struct.unpack("<H", body[24:26])[0]  # the sub-format GUID starts with the tag
    if channels == 0 or bits == 0:
        return None
    return tag, channels, bits


def count_invalid_samples(path: Path, layout: WavLayout) -> tuple[int, int]:
    """``(invalid, total)`` values in a float WAV's data (NaN or infinite); ``(0, 0)`` for
    other formats. Reads in blocks, so memory stays small whatever the file's size."""
    if not layout.is_float:
        return 0, 0
    dtype = np.dtype("<f4" if layout.bits_per_sample == 32 else "<f8")
    available = min(layout.declared_bytes, layout.present_bytes)
    usable = available - available % dtype.itemsize
    invalid = 0
    block = SCAN_BLOCK_BYTES - SCAN_BLOCK_BYTES % dtype.itemsize
    with path.open("rb") as handle:
        handle.seek(layout.data_offset)
        remaining = usable
        while remaining > 0:
            data = handle.read(min(block, remaining))
            if not data:
                break
            remaining -= len(data)
            values = np.frombuffer(data[: len(data) - len(data) % dtype.itemsize], dtype=dtype)
            invalid += int(values.size - np.count_nonzero(np.isfinite(values)))
    return invalid, usable // dtype.itemsize
