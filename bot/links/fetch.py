"""Fetch one song from a link with yt-dlp: metadata checked first, bounded, cleaned up.

The order of a fetch: the link against the allowlist (no network), yt-dlp's metadata
(a playlist, a live stream, a duration over the song limit or a size over the byte limit are
refused before any download), then the audio alone (``bestaudio``), bounded in bytes while
it arrives and in time by a deadline, then the song limits on the file itself. Every
connection goes through :class:`~bot.links.guard.GuardedConnector`. Whatever fails, the
partial files are removed.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.links.errors import (
    LiveStreamError,
    PlaylistLinkError,
    SongLinkError,
    SongLinkTimeoutError,
    SongLinkTooBigError,
    SongLinkTooLongError,
    SongLinkUnavailableError,
)
from bot.links.guard import AddressGuard, GuardedConnector
from bot.links.policy import SongLink, check_link
from engine.api import probe_duration

log = logging.getLogger(__name__)

PARTIAL_PREFIX = ".tmp-link-"
"""yt-dlp's files while a fetch runs: removed on failure; after a crash, by the start-up
sweep of ``.tmp-`` files."""
AUDIO_SUFFIXES = frozenset(
    {"m4a", "mp3", "ogg", "oga", "opus", "webm", "weba", "mp4", "flac", "wav", "aac", "mka"}
)
FORMAT = "/".join(
    f"{kind}[protocol^={protocol}]"
    for kind in ("bestaudio", "best")
    for protocol in ("http", "m3u8")
)
"""The audio alone where the site has it; only transports yt-dlp runs itself (no ffmpeg,
rtmp or other programs, which would connect around the guard)."""
NO_FFMPEG = "/nonexistent/parrot-links-use-no-ffmpeg"
"""yt-dlp may hand some streams to ffmpeg, which would connect by itself: make it absent."""
MAX_SOCKET_TIMEOUT_S = 30.0
GRACE_S = 5.0
"""How long past the deadline the event loop waits for the worker thread to notice."""


@dataclass(frozen=True, slots=True)
class SongLimits:
    max_seconds: float
    max_bytes: int


@dataclass(frozen=True, slots=True)
class FetchedSong:
    path: Path
    title: str
    duration_s: float | None
    """As the site states it, else as the file states it (None when neither does)."""
    size: int
    host: str


class _Quiet:
    """yt-dlp's logger: nothing on the console, details in Parrot's debug log."""

    def debug(self, message: str) -> None:
        log.debug("yt-dlp: %s", message)

    info = debug

    def warning(self, message: str) -> None:
        log.debug("yt-dlp warning: %s", message)

    def error(self, message: str) -> None:
        log.debug("yt-dlp error: %s", message)


class _Stop(Exception):
    """Raised in yt-dlp's progress hook to abort a download; the reason is kept aside."""


@dataclass(slots=True)
class _Fetch:
    """One fetch's state, shared with yt-dlp's hooks and connections (its worker thread)."""

    link: SongLink
    folder: Path
    limits: SongLimits
    connector: GuardedConnector
    timeout_s: float
    stem: str
    refusal: SongLinkError | None = None
    delivered: Path | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def params(self) -> dict[str, Any]:
        return {
            "logger": _Quiet(),
            "quiet": True,
            "no_warnings": True,
            "noprogress": True,
            "noplaylist": True,
            "extract_flat": "in_playlist",
            "lazy_playlist": True,
            "format": FORMAT,
            "hls_prefer_native": True,
            "ffmpeg_location": NO_FFMPEG,
            "fixup": "never",
            "postprocessors": [],
            "outtmpl": {"default": str(self.folder / f"{self.stem}.%(ext)s")},
            "paths": {},
            "restrictfilenames": True,
            "overwrites": True,
            "continuedl": False,
            "nopart": False,
            "proxy": "",
            "socket_timeout": min(MAX_SOCKET_TIMEOUT_S, self.timeout_s),
            "retries": 0,
            "fragment_retries": 0,
            "extractor_retries": 0,
            "file_access_retries": 0,
            "skip_unavailable_fragments": False,
            "writethumbnail": False,
            "writesubtitles": False,
            "writeinfojson": False,
            "cachedir": False,
            "progress_hooks": [self.on_progress],
        }

    def on_progress(self, status: dict[str, Any]) -> None:
        if self.connector.expired:
            raise _Stop
        done = int(status.get("downloaded_bytes") or 0)
        total = status.get("total_bytes")  # exact (Content-Length); estimates can overshoot
        limit = self.limits.max_bytes
        if total and total > limit:
            self.refusal = SongLinkTooBigError(float(total), limit, known_before=True)
        elif done > limit:
            self.refusal = SongLinkTooBigError(float(done), limit, known_before=False)
        if self.refusal is not None:
            raise _Stop

    def check_metadata(self, info: dict[str, Any]) -> None:
        """Before any download: one song, not live, within the limits as far as stated."""
        if info.get("_type") in ("playlist", "multi_video") or info.get("entries") is not None:
            raise PlaylistLinkError()
        if info.get("is_live") or info.get("live_status") in ("is_live", "post_live"):
            raise LiveStreamError()
        if info.get("live_status") == "is_upcoming":
            raise SongLinkUnavailableError("it has not been released yet")
        duration = info.get("duration")
        if isinstance(duration, int | float) and duration > self.limits.max_seconds:
            raise SongLinkTooLongError(float(duration), self.limits.max_seconds)
        size = _stated_size(info)
        if size is not None and size > self.limits.max_bytes:
            raise SongLinkTooBigError(size, self.limits.max_bytes, known_before=True)

    def run(self) -> FetchedSong:
        from bot.links.ytdlp import GuardedYoutubeDL  # deferred: imports yt-dlp (0.4 s)

        with GuardedYoutubeDL(self.params(), self.connector) as ydl:
            info = ydl.extract_info(self.link.url, download=False)
            self.check_metadata(info)
            done = ydl.process_ie_result(info, download=True)
        downloads = done.get("requested_downloads") or []
        if not downloads or not downloads[0].get("filepath"):
            raise SongLinkUnavailableError("the site offered no audio to download")
        return self.finish(Path(downloads[0]["filepath"]), info)

    def finish(self, downloaded: Path, info: dict[str, Any]) -> FetchedSong:
        """The song limits on the file itself, then its final name (ours, never the site's)."""
        size = downloaded.stat().st_size
        if size > self.limits.max_bytes:
            raise SongLinkTooBigError(float(size), self.limits.max_bytes, known_before=False)
        if size == 0:
            raise SongLinkUnavailableError("the site sent an empty file")
        stated = probe_duration(downloaded)
        if stated is not None and stated > self.limits.max_seconds:
            raise SongLinkTooLongError(stated, self.limits.max_seconds)
        suffix = downloaded.suffix.lower().lstrip(".")
        name = self.stem.removeprefix(PARTIAL_PREFIX)
        target = self.folder / f"{name}.{suffix if suffix in AUDIO_SUFFIXES else 'audio'}"
        with self.lock:
            if self.connector.expired:  # the caller gave up meanwhile: leave nothing behind
                raise SongLinkTimeoutError(self.timeout_s)
            downloaded.replace(target)
            self.delivered = target
        duration = info.get("duration")
        return FetchedSong(
            path=target,
            title=_title(info, self.link.host),
            duration_s=float(duration) if isinstance(duration, int | float) else stated,
            size=size,
            host=self.link.host,
        )

    def explain(self, error: BaseException) -> SongLinkError:
        """The one reason to give for a failed fetch, whatever yt-dlp wrapped it in."""
        if self.connector.refusal is not None:
            return self.connector.refusal
        if self.refusal is not None:
            return self.refusal
        if self.connector.out_of_time:
            return SongLinkTimeoutError(self.timeout_s)
        if isinstance(error, SongLinkError):
            return error
        from bot.links.ytdlp import unavailable_reason  # deferred: imports yt-dlp (0.4 s)

        return SongLinkUnavailableError(unavailable_reason(error))

    def remove_partials(self) -> None:
        for path in self.folder.glob(f"{self.stem}*"):
            path.unlink(missing_ok=True)

    def run_guarded(self) -> FetchedSong:
        """:meth:`run` under the deadline, one :class:`SongLinkError` for any failure, no
        partial file left behind. Blocking: runs on a worker thread."""
        timer = threading.Timer(self.timeout_s, self.connector.expire)
        timer.daemon = True
        timer.start()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            return self.run()
        except SongLinkError:
            self.remove_partials()
            raise
        except Exception as error:
            self.remove_partials()
            reason = self.explain(error)
            log.info("song link %s refused: %s (%r)", self.link.url, reason, error)
            raise reason from None
        except BaseException:
            self.remove_partials()
            raise
        finally:
            timer.cancel()
            self.connector.close()

    def abandon(self) -> None:
        """The caller stopped waiting: stop the worker and drop what it delivers."""
        with self.lock:
            self.connector.expire()
            if self.delivered is not None:
                self.delivered.unlink(missing_ok=True)


def _stated_size(info: dict[str, Any]) -> float | None:
    formats = info.get("requested_formats") or [info]
    sizes = [fmt.get("filesize") or fmt.get("filesize_approx") for fmt in formats]
    known = [float(size) for size in sizes if isinstance(size, int | float)]
    return sum(known) if known else None


def _title(info: dict[str, Any], host: str) -> str:
    title = info.get("track") or info.get("title")
    if not isinstance(title, str) or not title.strip():
        return f"a song from {host}"
    artist = info.get("artist") or info.get("creator")
    text = f"{artist} - {title}" if isinstance(artist, str) and info.get("track") else title
    return " ".join(text.split())[:100]


class SongLinks:
    """The bot's and the CLI's way to songs by link: the allowlist, the address guard, the
    limits and the deadline, set once. Tests open the allowlist and the guard to a local
    server through ``allowed_hosts`` and ``guard``; nothing else does."""

    def __init__(
        self,
        allowed_hosts: tuple[str, ...],
        limits: SongLimits,
        *,
        timeout_s: float,
        guard: AddressGuard | None = None,
    ) -> None:
        self.allowed_hosts = allowed_hosts
        self.limits = limits
        self.timeout_s = timeout_s
        self.guard = guard or AddressGuard()

    def check(self, url: str) -> SongLink:
        """The allowlist alone: no network, cheap enough before answering Discord."""
        return check_link(url, self.allowed_hosts)

    async def fetch(self, url: str, folder: Path) -> FetchedSong:
        """Fetch the song on a worker thread; the deadline holds even if the thread is slow
        to notice it (it then cleans up after itself)."""
        fetch = _Fetch(
            link=self.check(url),
            folder=folder,
            limits=self.limits,
            connector=GuardedConnector(self.guard, self.timeout_s),
            timeout_s=self.timeout_s,
            stem=PARTIAL_PREFIX + secrets.token_hex(8),
        )
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(fetch.run_guarded), self.timeout_s + GRACE_S
            )
        except TimeoutError:
            fetch.abandon()
            raise SongLinkTimeoutError(self.timeout_s) from None
        except asyncio.CancelledError:
            fetch.abandon()
            raise
