"""yt-dlp with every connection made by a :class:`~bot.links.guard.GuardedConnector`.

yt-dlp sends all its HTTP through a "request director" of handlers. :class:`GuardedYoutubeDL`
gives it exactly one: urllib's handler with Parrot's connection factory, no proxies, no
``ftp:`` or ``file:`` and no other transport (``requests``, ``curl_cffi``, websockets), so
nothing yt-dlp fetches, redirects included, avoids the address check. yt-dlp is pinned
exactly in pyproject.toml: the urllib pieces reused here are internal to it.
"""

from __future__ import annotations

import functools
import http.client
import urllib.request
from typing import Any

from yt_dlp import YoutubeDL
from yt_dlp.networking._urllib import HTTPHandler, RedirectHandler, UrllibRH
from yt_dlp.networking.exceptions import HTTPError
from yt_dlp.utils import DownloadError, ExtractorError, UnsupportedError

from bot.links.guard import GuardedConnector


class _GuardedHTTPHandler(HTTPHandler):  # type: ignore[misc]  # yt-dlp ships no types
    def __init__(self, connector: GuardedConnector, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._connector = connector

    def _connection(
        self, connection_class: type[http.client.HTTPConnection], *args: Any, **kwargs: Any
    ) -> http.client.HTTPConnection:
        connection = connection_class(*args, **kwargs)
        connection._create_connection = self._connector.create_connection  # type: ignore[attr-defined]  # http.client's hook
        return connection

    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(functools.partial(self._connection, http.client.HTTPConnection), req)

    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(
            functools.partial(self._connection, http.client.HTTPSConnection),
            req,
            context=self._context,
        )


class GuardedRH(UrllibRH):  # type: ignore[misc]  # yt-dlp ships no types
    """yt-dlp's urllib handler, reduced to http(s) through the guarded connector."""

    RH_NAME = "parrot-guarded"
    _SUPPORTED_URL_SCHEMES = ("http", "https")

    def __init__(self, *, connector: GuardedConnector, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._connector = connector

    def _create_instance(
        self, proxies: Any, cookiejar: Any, legacy_ssl_support: Any = None
    ) -> urllib.request.OpenerDirector:
        opener = urllib.request.OpenerDirector()
        for handler in (
            _GuardedHTTPHandler(
                self._connector,
                context=self._make_sslcontext(legacy_ssl_support=legacy_ssl_support),
                source_address=self.source_address,
            ),
            urllib.request.HTTPCookieProcessor(cookiejar),
            urllib.request.UnknownHandler(),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
            RedirectHandler(),
        ):
            opener.add_handler(handler)
        opener.addheaders = []  # no urllib User-Agent: yt-dlp sets its own headers
        return opener


class GuardedYoutubeDL(YoutubeDL):  # type: ignore[misc]  # yt-dlp ships no types
    def __init__(self, params: dict[str, Any], connector: GuardedConnector) -> None:
        self._connector = connector
        super().__init__(params)

    def build_request_director(self, handlers: Any, preferences: Any = None) -> Any:
        guarded = functools.partial(GuardedRH, connector=self._connector)
        return super().build_request_director([guarded], [])


def unavailable_reason(error: BaseException) -> str:
    """Why yt-dlp found no song, in words a member can read (no addresses, no internals)."""
    cause: BaseException | None = error
    if isinstance(error, DownloadError) and error.exc_info and error.exc_info[1] is not None:
        cause = error.exc_info[1]
    if isinstance(cause, UnsupportedError):
        return "there is no song I can read at that address"
    while cause is not None:
        if isinstance(cause, HTTPError):
            return f"the site answered HTTP {cause.status}"
        next_cause = getattr(cause, "cause", None) or cause.__cause__
        cause = next_cause if isinstance(next_cause, BaseException) else None
    if isinstance(error, DownloadError | ExtractorError):
        return "it is unavailable, private or removed, or the site refused"
    return "the download failed"
