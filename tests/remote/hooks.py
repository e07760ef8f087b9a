"""Set-up run in every Ray worker process of the test cluster (``worker_process_setup_hook``)."""

from __future__ import annotations

import contextlib

from tests.checkpoints.chatterbox import shrunk_t3

_KEPT = contextlib.ExitStack()
"""Holds the context open for the life of the process (a dropped one would restore T3)."""


def shrink_t3() -> None:
    """The random checkpoint loads only into the shrunk T3: keep it shrunk for the process."""
    _KEPT.enter_context(shrunk_t3())
