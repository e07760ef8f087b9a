"""Songs by link: the real yt-dlp (generic extractor) against a local site on 127.0.0.1.

Only these tests open the allowlist and the address guard to 127.0.0.1, through the explicit
``allowed_hosts`` and ``guard`` parameters of :class:`SongLinks`; "songs.example" stands for
a public site by an injected resolver that answers 127.0.0.1.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.links import (
    DEFAULT_SONG_HOSTS,
    AddressGuard,
    HostNotAllowedError,
    PlaylistLinkError,
    PrivateAddressError,
    SongLimits,
    SongLinks,
    SongLinkTimeoutError,
    SongLinkTooBigError,
    SongLinkTooLongError,
    SongLinkUnavailableError,
)
from tests.song_server import SongSite, serve_songs

LIMITS = SongLimits(max_seconds=60, max_bytes=10 * 2**20)


@pytest.fixture(scope="module")
def site(short_speech_clips: dict[str, Path]) -> Iterator[SongSite]:
    with serve_songs(short_speech_clips["ogg"]) as served:
        yield served


@pytest.fixture(scope="module")
def redirector(short_speech_clips: dict[str, Path]) -> Iterator[SongSite]:
    """A second site on another port, to redirect from."""
    with serve_songs(short_speech_clips["ogg"]) as served:
        yield served


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "jobs"


def public_name(answers: dict[str, str]) -> Any:
    """A resolver that answers like public DNS for the names given, and nothing else."""

    def resolve(host: str, port: int) -> list[Any]:
        address = answers[host]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    return resolve


def opened(site: SongSite, **changes: Any) -> SongLinks:
    """Links open to the local site only: 127.0.0.1 allowed and exempt from the guard."""
    options: dict[str, Any] = {
        "allowed_hosts": ("127.0.0.1",),
        "limits": LIMITS,
        "timeout_s": 10.0,
        "guard": AddressGuard(exempt=[("127.0.0.1", site.port)]),
    }
    options.update(changes)
    return SongLinks(**options)


def nothing_left(folder: Path) -> bool:
    return not folder.exists() or not list(folder.iterdir())


async def test_a_song_is_fetched_with_its_title_into_a_name_of_ours(
    site: SongSite, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # proxies are never used
    song = await opened(site).fetch(site.url("/page.html"), folder)
    assert song.title == "Test Song" and song.duration_s == 2
    assert song.path.parent == folder and song.path.suffix == ".ogg"
    assert song.path.read_bytes() == site.song and song.size == len(site.song)
    assert list(folder.iterdir()) == [song.path]

    direct = await opened(site).fetch(site.url(site.song_path), folder)
    assert direct.title == "song" and direct.duration_s == pytest.approx(2.0, abs=0.5)
    assert direct.path.read_bytes() == site.song


async def test_a_host_off_the_allowlist_is_refused_before_any_request(
    site: SongSite, folder: Path
) -> None:
    site.requests.clear()
    with pytest.raises(HostNotAllowedError) as refused:
        await opened(site, allowed_hosts=DEFAULT_SONG_HOSTS).fetch(site.url(site.song_path), folder)
    assert (
        "youtube.com" in refused.value.for_member() and "`127.0.0.1`" in refused.value.for_member()
    )
    assert site.requests == []


async def test_metadata_over_the_limits_is_refused_before_the_download(
    site: SongSite, folder: Path
) -> None:
    site.requests.clear()
    with pytest.raises(SongLinkTooLongError) as long:
        await opened(site).fetch(site.url("/long.html"), folder)
    assert "1:00:00" not in str(long.value) and "60:00 long" in str(long.value)
    with pytest.raises(SongLinkTooBigError) as big:
        await opened(site).fetch(site.url("/big.html"), folder)
    assert "500.0 MB" in big.value.for_member()
    assert site.requests == ["/long.html", "/big.html"]  # never the song itself
    assert nothing_left(folder)


async def test_a_download_over_the_byte_limit_stops_sized_or_not(
    site: SongSite, folder: Path
) -> None:
    small = SongLimits(max_seconds=60, max_bytes=len(site.song) // 2)
    for path in (site.song_path, "/unsized.ogg"):
        with pytest.raises(SongLinkTooBigError):
            await opened(site, limits=small).fetch(site.url(path), folder)
        assert nothing_left(folder), path


async def test_a_playlist_is_refused(site: SongSite, folder: Path) -> None:
    site.requests.clear()
    with pytest.raises(PlaylistLinkError) as refused:
        await opened(site).fetch(site.url("/feed.rss"), folder)
    assert "one song" in refused.value.for_member()
    assert site.requests == ["/feed.rss"]


async def test_private_addresses_are_refused_with_the_guard_on(
    site: SongSite, folder: Path
) -> None:
    site.requests.clear()
    with pytest.raises(PrivateAddressError) as loopback:
        await opened(site, guard=AddressGuard()).fetch(site.url(site.song_path), folder)
    assert "a loopback address" in str(loopback.value)
    assert "private network address" in loopback.value.for_member()
    assert "127.0.0.1" not in loopback.value.for_member()

    metadata = AddressGuard(resolver=public_name({"songs.example": "169.254.169.254"}))
    with pytest.raises(PrivateAddressError, match="cloud metadata"):
        await opened(site, allowed_hosts=("songs.example",), guard=metadata).fetch(
            site.url(site.song_path, host="songs.example"), folder
        )
    assert site.requests == []


async def test_a_redirect_to_a_private_address_is_refused(
    site: SongSite, redirector: SongSite, folder: Path
) -> None:
    """songs.example resolves like a public site (the redirector, exempt); it redirects to
    127.0.0.1 on the song site's port, which nothing exempts."""
    guard = AddressGuard(
        resolver=public_name({"songs.example": "127.0.0.1", "127.0.0.1": "127.0.0.1"}),
        exempt=[("127.0.0.1", redirector.port)],
    )
    links = opened(redirector, allowed_hosts=("songs.example",), guard=guard)
    site.requests.clear()
    redirector.requests.clear()
    link = redirector.url(f"/redirect?to={site.url(site.song_path)}", host="songs.example")
    with pytest.raises(PrivateAddressError) as refused:
        await links.fetch(link, folder)
    assert refused.value.address == "127.0.0.1" and refused.value.kind == "a loopback address"
    assert redirector.requests == ["/redirect"] and site.requests == []
    assert nothing_left(folder)

    # The same hop to the exempt endpoint is followed: the refusal above was the address.
    to_itself = redirector.url(
        f"/redirect?to={redirector.url(redirector.song_path)}", host="songs.example"
    )
    song = await links.fetch(to_itself, folder)
    assert song.path.read_bytes() == redirector.song


async def test_a_slow_download_times_out_and_leaves_nothing(site: SongSite, folder: Path) -> None:
    started = time.monotonic()
    with pytest.raises(SongLinkTimeoutError) as refused:
        await opened(site, timeout_s=1.5).fetch(site.url("/slow.ogg"), folder)
    assert time.monotonic() - started < 5.0
    assert "took longer than 0:02" in refused.value.for_member()
    assert nothing_left(folder)


async def test_a_missing_song_is_unavailable(site: SongSite, folder: Path) -> None:
    with pytest.raises(SongLinkUnavailableError) as refused:
        await opened(site).fetch(site.url("/gone.ogg"), folder)
    assert "HTTP 404" in refused.value.for_member()
