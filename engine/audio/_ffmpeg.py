"""Shared ffmpeg command-line pieces: fixed flags and a safe way to name an input file."""

from __future__ import annotations

from pathlib import Path

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
QUIET = ("-nostdin", "-hide_banner", "-loglevel", "error")

# Only plain local files, and only demuxers for real audio containers: a playlist
# (HLS, concat, ...) uploaded as "voice.mp3" could otherwise make ffmpeg open other
# files or URLs.
PROTOCOLS = "file"
DEMUXERS = "wav,w64,mp3,ogg,matroska,webm,mov,mp4,m4a,flac,aac,aiff,caf"
INPUT_GUARDS = ("-protocol_whitelist", PROTOCOLS, "-format_whitelist", DEMUXERS)

STDERR_TAIL_CHARS = 2000


def input_url(path: Path) -> str:
    """An absolute ``file:`` URL, so names like ``-x.mp3`` or ``concat:a|b`` stay plain files."""
    return "file:" + str(path.resolve())


def stderr_tail(stderr: bytes | None) -> str:
    """The last lines of ffmpeg's stderr, decoded leniently, for logs."""
    if not stderr:
        return ""
    return stderr.decode("utf-8", "replace")[-STDERR_TAIL_CHARS:].strip()
