"""A local web site of songs for yt-dlp's generic extractor: direct files, pages with
JSON-LD metadata, a playlist feed, a redirect, a slow download. It records every path asked
for, so tests can show that a refusal came before any download."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

CONTENT_TYPES = {".ogg": "audio/ogg", ".wav": "audio/wav", ".mp3": "audio/mpeg"}


@dataclass
class SongSite:
    song: bytes
    suffix: str
    """The song file's, e.g. ``.ogg``: it is served as ``/song.ogg`` with its content type."""
    port: int = 0
    requests: list[str] = field(default_factory=list)
    """Paths asked for, in order (query strings dropped)."""

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def song_path(self) -> str:
        return f"/song{self.suffix}"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.suffix, "application/octet-stream")

    def page(self, *, title: str, duration: str, size: int | None = None) -> bytes:
        metadata = {
            "@context": "https://schema.org",
            "@type": "AudioObject",
            "name": title,
            "contentUrl": self.url(self.song_path),
            "encodingFormat": self.content_type,
            "duration": duration,
        }
        if size is not None:
            metadata["contentSize"] = str(size)
        return (
            "<html><head><title>A song</title>"
            f'<script type="application/ld+json">{json.dumps(metadata)}</script>'
            "</head><body>A song.</body></html>"
        ).encode()

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>Song {n}</title><link>{self.url(self.song_path)}?n={n}</link>"
            f'<enclosure url="{self.url(self.song_path)}?n={n}" type="{self.content_type}" '
            'length="1"/>'
            "</item>"
            for n in (1, 2)
        )
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Songs</title>'
            f"{items}</channel></rss>"
        ).encode()


def _handler(site: SongSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # close-delimited bodies: /unsized.ogg needs no length

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, body: bytes, content_type: str, *, length: bool = True) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            if length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            site.requests.append(parts.path)
            query = parse_qs(parts.query)
            with contextlib.suppress(OSError):
                self._route(parts.path, query)

        def _route(self, path: str, query: dict[str, list[str]]) -> None:
            if path in (site.song_path, "/unsized" + site.suffix):
                self._send(site.song, site.content_type, length=path == site.song_path)
            elif path == "/page.html":
                self._send(site.page(title="Test Song", duration="PT2S"), "text/html")
            elif path == "/long.html":
                self._send(site.page(title="Epic", duration="PT1H"), "text/html")
            elif path == "/big.html":
                size = 500 * 2**20
                self._send(site.page(title="Huge", duration="PT2S", size=size), "text/html")
            elif path == "/feed.rss":
                self._send(site.feed(), "application/rss+xml")
            elif path == "/redirect":
                self.send_response(302)
                self.send_header("Location", query["to"][0])
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/slow" + site.suffix:
                self.send_response(200)
                self.send_header("Content-Type", site.content_type)
                self.send_header("Content-Length", str(len(site.song)))
                self.end_headers()
                for start in range(0, min(len(site.song), 40 * 64), 64):
                    self.wfile.write(site.song[start : start + 64])
                    self.wfile.flush()
                    time.sleep(0.25)
            else:
                self.send_error(404)

    return Handler


@contextlib.contextmanager
def serve_songs(song: Path) -> Iterator[SongSite]:
    """The site on 127.0.0.1 (a free port) until the block ends."""
    site = SongSite(song.read_bytes(), song.suffix.lower())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
