"""No request of a song fetch may reach a private address: checked at every connection.

yt-dlp resolves and connects by itself, for the link, for every redirect and for the media
servers a site points to. :class:`GuardedConnector` is the only way its connections are made
(see :mod:`bot.links.ytdlp`): it resolves the host, refuses the whole connection when any
address is loopback, private, link-local, multicast, reserved or a cloud metadata address,
and connects to exactly the addresses it checked, so a DNS answer that changes between the
check and the connection cannot slip through. It also holds the fetch's deadline: when it
passes, every connection of the fetch is shut down and no new one is opened.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bot.links.errors import PrivateAddressError

AddressInfo = tuple[Any, Any, int, str, tuple[Any, ...]]
"""One entry of :func:`socket.getaddrinfo`: family, type, proto, canonname, sockaddr."""
Resolver = Callable[[str, int], Sequence[AddressInfo]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (classic)
        "fd00:ec2::254",  # AWS over IPv6
    )
)
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


def system_resolver(host: str, port: int) -> Sequence[AddressInfo]:
    return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, Teredo), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def forbidden_kind(address: IPAddress) -> str | None:
    """Why Parrot never connects to ``address`` (e.g. "a loopback address"), None if public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return forbidden_kind(embedded)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for kind, flagged in (
        ("a loopback address", address.is_loopback),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("an unspecified address", address.is_unspecified),
        ("a reserved address", address.is_reserved),
        ("a private address", address.is_private),
    ):
        if flagged:
            return kind
    return None if address.is_global else "a non-public address"


def _address_of(sockaddr: tuple[Any, ...]) -> IPAddress:
    return ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])


class AddressGuard:
    """Resolves hosts and refuses non-public addresses; shared by every fetch.

    ``resolver`` (``getaddrinfo``-like) and ``exempt`` (exact ``(address, port)`` endpoints let
    through although not public) exist for tests, which serve songs on 127.0.0.1; the
    product never passes them.
    """

    def __init__(
        self,
        *,
        resolver: Resolver = system_resolver,
        exempt: Iterable[tuple[str, int]] = (),
    ) -> None:
        self._resolver = resolver
        self._exempt = frozenset((ipaddress.ip_address(host), port) for host, port in exempt)

    def addresses(self, host: str, port: int) -> list[AddressInfo]:
        """Every address ``host`` resolves to, or :class:`PrivateAddressError` if any one of
        them is not public (one bad answer condemns the name)."""
        answers = list(self._resolver(host, port))
        if not answers:
            raise OSError(f"{host} has no address")
        for answer in answers:
            address = _address_of(answer[4])
            if (address, port) in self._exempt:
                continue
            kind = forbidden_kind(address)
            if kind is not None:
                raise PrivateAddressError(host, str(address), kind)
        return answers


class _RefusedConnection(OSError):
    """What yt-dlp sees of a refusal; the fetch reads the real reason from the connector."""


class GuardedConnector:
    """Opens the connections of one fetch (thread-safe) and enforces its deadline."""

    def __init__(self, guard: AddressGuard, timeout_s: float) -> None:
        self._guard = guard
        self._deadline = time.monotonic() + timeout_s
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self.expired = False
        self.refusal: PrivateAddressError | None = None
        self.connected: list[tuple[str, int]] = []
        """Every (address, port) connected to, in order."""

    def create_connection(
        self,
        address: tuple[str, int],
        timeout: float | None = None,
        source_address: tuple[str, int] | None = None,
    ) -> socket.socket:
        """``http.client``'s ``_create_connection``: resolve, check, connect to what was checked."""
        host, port = address
        if self.expired:
            raise _RefusedConnection("the fetch ran out of time")
        try:
            answers = self._guard.addresses(host, port)
        except PrivateAddressError as refusal:
            self.refusal = self.refusal or refusal
            raise _RefusedConnection(str(refusal)) from None
        error: OSError | None = None
        for family, kind, proto, _, sockaddr in answers:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise _RefusedConnection("the fetch ran out of time")
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(min(timeout or remaining, remaining))
                if source_address is not None:
                    sock.bind(source_address)
                sock.connect(sockaddr)
            except OSError as failure:
                sock.close()
                error = failure
                continue
            self._track(sock)
            self.connected.append((str(_address_of(sockaddr)), port))
            return sock
        raise error or OSError(f"could not connect to {host}")

    @property
    def out_of_time(self) -> bool:
        return self.expired or time.monotonic() >= self._deadline

    def _track(self, sock: socket.socket) -> None:
        # A duplicate of the descriptor: TLS takes the original over, and shutting the
        # duplicate down still ends the connection.
        with self._lock:
            self._open.append(sock.dup())
            if self.expired:
                self._shut(self._open[-1])

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def expire(self) -> None:
        """The deadline passed: end every connection (blocked reads return) and open no more."""
        with self._lock:
            self.expired = True
            for sock in self._open:
                self._shut(sock)

    def close(self) -> None:
        with self._lock:
            for sock in self._open:
                sock.close()
            self._open.clear()
