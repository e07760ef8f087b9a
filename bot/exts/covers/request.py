"""What a cover job keeps of its request, shared by the slash command, the runner and tests."""

from __future__ import annotations

from typing import Any

from engine.api import AudioFormat, CoverParams, SingingMethod

KIND = "cover"
"""The ``kind`` of a cover's job and generation rows."""
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
"""For rows written before ``max_bytes`` was kept: Discord's smallest upload limit."""


def cover_request(
    *, song_name: str, voice_name: str, semitones: int, method: SingingMethod, max_bytes: int
) -> dict[str, Any]:
    """What a job row keeps of the request (JSON), enough to run it again after a restart."""
    return {
        "song_name": song_name[:100],
        "voice_name": voice_name,
        "semitones": semitones,
        "method": method.value,
        "max_bytes": max_bytes,
    }


def requested_method(params: dict[str, Any]) -> SingingMethod:
    return SingingMethod(params.get("method", SingingMethod.AUTO))


def requested_cover(params: dict[str, Any]) -> CoverParams:
    """The engine's parameters for a job's row: Opus, fitted to the channel's upload limit."""
    return CoverParams(
        semitones=int(params.get("semitones", 0)),
        output_format=AudioFormat.OGG_OPUS,
        max_bytes=int(params.get("max_bytes", DEFAULT_MAX_BYTES)),
    )
