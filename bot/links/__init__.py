"""Songs by link: yt-dlp behind an allowlist of hosts and a guard on every address.

No Discord here: ``/cover`` and ``parrot cover`` both use :class:`SongLinks`.

- :mod:`.policy`: which links are taken (``PARROT_SONG_HOSTS``; no network);
- :mod:`.guard`: no connection to a loopback, private, link-local, multicast, reserved or
  cloud metadata address, at any hop; the fetch's deadline;
- :mod:`.ytdlp`: yt-dlp with the guard as its only way out;
- :mod:`.fetch`: metadata checks before the download, limits while and after it, clean-up;
- :mod:`.errors`: one refusal per reason, each with the member's sentence.
"""

from __future__ import annotations

from bot.links.errors import (
    HostNotAllowedError,
    LinksDisabledError,
    LiveStreamError,
    NotALinkError,
    PlaylistLinkError,
    PrivateAddressError,
    SongLinkError,
    SongLinkTimeoutError,
    SongLinkTooBigError,
    SongLinkTooLongError,
    SongLinkUnavailableError,
)
from bot.links.fetch import FetchedSong, SongLimits, SongLinks
from bot.links.guard import AddressGuard, forbidden_kind
from bot.links.policy import DEFAULT_SONG_HOSTS, SongLink, check_link, looks_like_link, parse_hosts

__all__ = [
    "DEFAULT_SONG_HOSTS",
    "AddressGuard",
    "FetchedSong",
    "HostNotAllowedError",
    "LinksDisabledError",
    "LiveStreamError",
    "NotALinkError",
    "PlaylistLinkError",
    "PrivateAddressError",
    "SongLimits",
    "SongLink",
    "SongLinkError",
    "SongLinkTimeoutError",
    "SongLinkTooBigError",
    "SongLinkTooLongError",
    "SongLinkUnavailableError",
    "SongLinks",
    "check_link",
    "forbidden_kind",
    "looks_like_link",
    "parse_hosts",
]
