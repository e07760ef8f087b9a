"""Songs by link without yt-dlp: the allowlist, address kinds, and the connector's pinning."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from bot.links import (
    DEFAULT_SONG_HOSTS,
    AddressGuard,
    HostNotAllowedError,
    LinksDisabledError,
    NotALinkError,
    PrivateAddressError,
    check_link,
    forbidden_kind,
    parse_hosts,
)
from bot.links.guard import GuardedConnector


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/watch?v=abc",
        "https://music.youtube.com/watch?v=abc",
        "http://YouTu.be/abc",
        "https://artist.bandcamp.com/track/song",
        "https://soundcloud.com./artist/song",
    ],
)
def test_allowed_hosts_and_their_subdomains_pass(url: str) -> None:
    assert check_link(url, DEFAULT_SONG_HOSTS).url == url
    assert check_link(f" <{url}> ", DEFAULT_SONG_HOSTS).url == url  # Discord's no-preview form


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("https://evilyoutube.com/watch", HostNotAllowedError),
        ("https://youtube.com.evil.net/watch", HostNotAllowedError),
        ("https://127.0.0.1/song.mp3", HostNotAllowedError),
        ("https://youtube.com@evil.net/", NotALinkError),
        ("https://youtube.com\\@evil.net/", NotALinkError),
        ("ftp://youtube.com/song.mp3", NotALinkError),
        ("file:///etc/passwd", NotALinkError),
        ("ytsearch:never gonna give you up", NotALinkError),
        ("https://youtube.com:port/", NotALinkError),
        ("https://youtube.com/a b", NotALinkError),
        ("youtube.com/watch?v=abc", NotALinkError),
    ],
)
def test_other_links_are_refused_without_network(url: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_link(url, DEFAULT_SONG_HOSTS)


def test_the_refusal_names_the_allowed_hosts_and_an_empty_list_turns_links_off() -> None:
    with pytest.raises(HostNotAllowedError) as refused:
        check_link("https://example.org/song.mp3", ("youtube.com", "soundcloud.com"))
    assert refused.value.for_member() == (
        "I only fetch songs from youtube.com, soundcloud.com; `example.org` is not one of "
        "them. Attach the song as a file instead."
    )
    assert "PARROT_SONG_HOSTS" in str(refused.value)
    with pytest.raises(LinksDisabledError):
        check_link("https://youtube.com/watch?v=abc", ())


def test_an_ip_address_on_the_allowlist_matches_only_itself() -> None:
    assert check_link("http://10.0.0.1/a", ("10.0.0.1",)).host == "10.0.0.1"
    with pytest.raises(HostNotAllowedError):
        check_link("http://110.0.0.1/a", ("10.0.0.1", "0.0.1"))


def test_the_owner_list_is_normalized_and_checked() -> None:
    assert parse_hosts(" YouTube.com, music.youtube.com  vimeo.com. youtube.com") == (
        "youtube.com",
        "music.youtube.com",
        "vimeo.com",
    )
    assert parse_hosts("") == ()
    for wrong in ("https://youtube.com", "youtube.com/watch", "*.youtube.com", "a..b"):
        with pytest.raises(ValueError, match="not a"):
            parse_hosts(wrong)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("192.168.1.1", "a private address"),
        ("172.16.0.1", "a private address"),
        ("fd12::1", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),
        ("240.0.0.1", "a reserved address"),
        ("100.64.0.1", "a non-public address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("64:ff9b::a9fe:a9fe", "a cloud metadata address"),
        ("2002:7f00:1::", "a loopback address"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    assert forbidden_kind(ipaddress.ip_address(address)) == kind


def answers(*addresses: str, port: int) -> list[Any]:
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]


def test_one_bad_answer_condemns_the_name() -> None:
    guard = AddressGuard(
        resolver=lambda host, port: answers("93.184.215.14", "10.0.0.7", port=port)
    )
    with pytest.raises(PrivateAddressError) as refused:
        guard.addresses("mixed.example", 443)
    assert refused.value.address == "10.0.0.7" and refused.value.kind == "a private address"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.create_server(("127.0.0.1", 0))  # the kernel completes connections
    yield server
    server.close()


def test_the_connector_connects_to_the_address_it_checked(listener: socket.socket) -> None:
    """DNS rebinding: the name answers the exempt address first, then a private one. Each
    connection uses exactly the answer it checked; the changed answer is refused."""
    port = listener.getsockname()[1]
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[Any]:
        calls.append(host)
        return answers("127.0.0.1" if len(calls) == 1 else "10.0.0.7", port=port)

    connector = GuardedConnector(
        AddressGuard(resolver=rebinding, exempt=[("127.0.0.1", port)]), timeout_s=5
    )
    first = connector.create_connection(("songs.example", port), timeout=2)
    assert first.getpeername() == ("127.0.0.1", port)
    with pytest.raises(OSError):
        connector.create_connection(("songs.example", port), timeout=2)
    assert connector.refusal is not None and connector.refusal.address == "10.0.0.7"
    assert connector.connected == [("127.0.0.1", port)] and calls == ["songs.example"] * 2

    connector.expire()  # the deadline: open connections end, no new one starts
    assert first.recv(1) == b""
    with pytest.raises(OSError, match="out of time"):
        connector.create_connection(("songs.example", port), timeout=2)
    first.close()
    connector.close()
