"""This process's memory as Linux reports it, and the large files the memory benchmarks move."""

from __future__ import annotations

import re
from pathlib import Path


def resident_kb(field: str) -> int:
    """A field of ``/proc/self/status`` in kB (``VmRSS``, ``VmHWM``, ``RssAnon``…)."""
    status = Path("/proc/self/status").read_text()
    match = re.search(rf"{field}:\s+(\d+)", status)
    return int(match[1]) if match else 0


def reset_peak() -> None:
    """Start ``VmHWM`` over from the current resident set."""
    Path("/proc/self/clear_refs").write_text("5")


def write_filler(path: Path, mb: int) -> Path:
    """A file of ``mb`` MB, written a MB at a time (never held whole)."""
    with path.open("wb") as handle:
        for _ in range(mb):
            handle.write(bytes(range(256)) * 4096)
    return path
