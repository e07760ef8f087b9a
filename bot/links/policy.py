"""Which links Parrot fetches songs from: the owner's allowlist of hosts (no network here).

The allowlist only decides which *links* are taken; where yt-dlp then connects (the site's
media servers, redirects) is guarded address by address in :mod:`bot.links.guard`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.links.errors import HostNotAllowedError, LinksDisabledError, NotALinkError

DEFAULT_SONG_HOSTS: tuple[str, ...] = (
    "youtube.com",
    "youtu.be",
    "music.youtube.com",
    "soundcloud.com",
    "bandcamp.com",
    "vimeo.com",
)
"""Major music and video sites; ``PARROT_SONG_HOSTS`` replaces the list."""
MAX_LINK_LENGTH = 2000
SCHEMES = frozenset({"http", "https"})


def normalize_host(text: str) -> str:
    """``Music.YouTube.com.`` → ``music.youtube.com``; raises ``ValueError`` for what is not
    a bare host name or IP address (a scheme, a path, a port, a wildcard)."""
    host = text.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if _ip(host) is not None:
        return str(_ip(host))
    labels = host.split(".")
    if not host or not all(
        label and len(label) <= 63 and label.replace("-", "").isalnum() for label in labels
    ):
        raise ValueError(
            f"{text.strip()!r} is not a host name (write e.g. youtube.com, without "
            "https:// or a path)"
        )
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{text.strip()!r} is not a valid host name") from None


def parse_hosts(value: str | Iterable[str]) -> tuple[str, ...]:
    """The allowlist from a comma- or space-separated string (or a list), normalized."""
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    hosts: list[str] = []
    for item in items:
        host = normalize_host(item)
        if host not in hosts:
            hosts.append(host)
    return tuple(hosts)


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """``host`` is an allowed host or one of its subdomains; an IP address must be listed."""
    if _ip(host) is not None:
        return str(_ip(host)) in allowed
    return any(host == entry or host.endswith("." + entry) for entry in allowed)


@dataclass(frozen=True, slots=True)
class SongLink:
    url: str
    host: str


def check_link(text: str, allowed: tuple[str, ...]) -> SongLink:
    """The link if Parrot may fetch it: http(s), a host on the allowlist. No network."""
    url = text.strip()
    if url.startswith("<") and url.endswith(">"):  # Discord's "no preview" spelling
        url = url[1:-1].strip()
    if not allowed:
        raise LinksDisabledError()
    if len(url) > MAX_LINK_LENGTH or any(
        ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url
    ):
        raise NotALinkError("that is not a link: give one http:// or https:// address")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  # raises ValueError for a port that is not a number
    except ValueError:
        raise NotALinkError(f"{url[:80]!r} is not a valid link") from None
    if parts.scheme.lower() not in SCHEMES:
        raise NotALinkError(f"{url[:80]!r} is not an http:// or https:// link")
    if not host:
        raise NotALinkError(f"{url[:80]!r} names no host")
    if "@" in parts.netloc or "\\" in url:
        raise NotALinkError("links with a user name, a password or a backslash are not taken")
    try:
        host = normalize_host(host)
    except ValueError:
        raise NotALinkError(f"{url[:80]!r} does not name a valid host") from None
    if not host_allowed(host, allowed):
        raise HostNotAllowedError(host, allowed)
    return SongLink(url, host)


def looks_like_link(text: str) -> bool:
    """Whether the CLI's SONG argument is meant as a link rather than a file name."""
    return "://" in text.strip()[:16]
