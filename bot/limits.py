"""Per-member cooldowns that count only accepted requests, and bounds on concurrent work.

discord.py's own cooldown decorators spend a member's turn before the command runs, so a
request refused for another reason (an image instead of audio) would still earn "slow
down" on the next try. These are checked first and spent only once a request is accepted.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Hashable, Iterator

from bot.errors import UserFacingError


class OnCooldownError(UserFacingError):
    def __init__(self, what: str, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(f"Slow down a little: you can {what} again in {seconds} s.")
        self.retry_after = retry_after


class TooBusyError(UserFacingError):
    """All places are taken; the member should simply try again shortly."""


class MemberCooldown:
    """One accepted request per key (a member, or a member in a server) every ``seconds``."""

    def __init__(
        self, seconds: float, what: str, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.what = what
        self._clock = clock
        self._last: dict[Hashable, float] = {}

    def check(self, key: Hashable) -> None:
        """Raise :class:`OnCooldownError` while ``key``'s last accepted request is too recent."""
        last = self._last.get(key)
        if last is None:
            return
        wait = last + self.seconds - self._clock()
        if wait > 0:
            raise OnCooldownError(self.what, wait)

    def spend(self, key: Hashable) -> None:
        """Count an accepted request; old entries are dropped as new ones arrive."""
        now = self._clock()
        if len(self._last) > 1024:
            self._last = {k: t for k, t in self._last.items() if t + self.seconds > now}
        self._last[key] = now


class ConcurrencyLimit:
    """At most ``limit`` holders at once; one more is refused at once, not queued."""

    def __init__(self, limit: int, busy_message: str) -> None:
        self.limit = limit
        self.busy_message = busy_message
        self.active = 0

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Take a place for the block, or raise :class:`TooBusyError`."""
        if self.active >= self.limit:
            raise TooBusyError(self.busy_message)
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
