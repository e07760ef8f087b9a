"""Set-up run in every Ray worker process of the test cluster (``worker_process_setup_hook``)."""

from __future__ import annotations

import contextlib

from engine.remote import messages
from tests.checkpoints.chatterbox import shrunk_t3

TEST_PIECE_BYTES = 256 * 1024
"""Files and checkpoints larger than this travel in pieces in the Ray tests (the real size,
32 MiB, would leave every test file whole)."""

_KEPT = contextlib.ExitStack()
"""Holds the context open for the life of the process (a dropped one would restore T3)."""


def set_up_worker() -> None:
    """The random checkpoint loads only into the shrunk T3: keep it shrunk for the process;
    and send what is larger than a test piece in pieces, as the pytest process does."""
    _KEPT.enter_context(shrunk_t3())
    messages.PIECE_BYTES = TEST_PIECE_BYTES
