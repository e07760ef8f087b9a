"""Why a song link was refused: one class per reason, each with the member's sentence.

``str(error)`` is the operator's line (CLI, logs); :meth:`for_member` is what a member reads
in Discord, which never names addresses or the bot's settings.
"""

from __future__ import annotations

from engine.api import ParrotError, as_sentence


def clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def megabytes(size: float) -> str:
    return f"{size / 2**20:.1f} MB"


class SongLinkError(ParrotError, ValueError):
    """A song link Parrot will not fetch, or could not fetch."""

    member_text: str = "I could not get a song from that link."

    def for_member(self) -> str:
        return as_sentence(self.member_text)


class NotALinkError(SongLinkError):
    member_text = "That is not a web link: send an http:// or https:// address."


class LinksDisabledError(SongLinkError):
    member_text = "Songs by link are turned off on this bot; attach the song as a file instead."

    def __init__(self) -> None:
        super().__init__("PARROT_SONG_HOSTS is empty: songs by link are turned off")


class HostNotAllowedError(SongLinkError):
    def __init__(self, host: str, allowed: tuple[str, ...]) -> None:
        self.host = host
        self.allowed = allowed
        super().__init__(
            f"{host} is not in PARROT_SONG_HOSTS ({', '.join(allowed)}); "
            "songs by link come only from those hosts and their subdomains"
        )

    def for_member(self) -> str:
        return (
            f"I only fetch songs from {', '.join(self.allowed)}; `{self.host[:80]}` is not "
            "one of them. Attach the song as a file instead."
        )


class SongLinkTooLongError(SongLinkError):
    def __init__(self, seconds: float, max_seconds: float) -> None:
        super().__init__(
            f"that song is {clock(seconds)} long; covers are limited to {clock(max_seconds)}"
        )
        self.member_text = f"{self}. Pick a shorter song"


class SongLinkTooBigError(SongLinkError):
    def __init__(self, size: float, max_bytes: int, *, known_before: bool) -> None:
        found = f"its audio is {megabytes(size)}" if known_before else "its audio passed"
        super().__init__(
            f"that song is too big to fetch: {found}, the limit is {megabytes(max_bytes)} "
            "(PARROT_MAX_SONG_UPLOAD_MB)"
        )
        limit = megabytes(max_bytes)
        self.member_text = f"That song is too big: {found} and the limit is {limit}"


class PlaylistLinkError(SongLinkError):
    member_text = "That link is a playlist; send a link to one song."

    def __init__(self) -> None:
        super().__init__("that link is a playlist; give a link to one song")


class LiveStreamError(SongLinkError):
    member_text = "That link is a live stream; send a link to a recorded song."

    def __init__(self) -> None:
        super().__init__("that link is a live stream; give a link to a recorded song")


class PrivateAddressError(SongLinkError):
    """A connection to a loopback, private, link-local, multicast, reserved or cloud metadata
    address was refused (at any hop, redirects included)."""

    member_text = (
        "That link leads to a private network address; I only fetch songs from the public internet."
    )

    def __init__(self, host: str, address: str, kind: str) -> None:
        self.host = host
        self.address = address
        self.kind = kind
        super().__init__(f"refused to connect to {address} ({kind}) for {host}")


class SongLinkTimeoutError(SongLinkError):
    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"fetching the song took longer than {clock(seconds)} "
            "(PARROT_SONG_DOWNLOAD_TIMEOUT_SECONDS)"
        )
        self.member_text = (
            f"Fetching that song took longer than {clock(seconds)}; try again later, or "
            "attach the song as a file"
        )


class SongLinkUnavailableError(SongLinkError):
    """The site answered, but with no song: removed, private, region-locked, not found."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"no song could be fetched from that link: {reason}")
        self.member_text = f"I could not get a song from that link: {reason}"
