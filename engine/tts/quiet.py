"""Chatterbox's own loops report progress on the terminal: a tqdm bar for every sentence
(T3's sampling loop, S3Gen's mean-flow solver) and a printed line for every mel call. The
library has no switch for either, and the serial speech path and zero-shot singing run
those loops once per sentence or song piece: a bot's log filled with bars. Parrot gives
those two modules a disabled progress bar, and the solver's ``print`` goes to the log at
debug level (module globals they look up at call time; their code is unchanged)."""

from __future__ import annotations

import functools
import importlib
import logging
from typing import Any

log = logging.getLogger(__name__)

_WITH_PROGRESS_BARS = ("chatterbox.models.t3.t3", "chatterbox.models.s3gen.flow_matching")
_PRINTS_PER_CALL = "chatterbox.models.s3gen.flow_matching"


def quiet_chatterbox_progress() -> None:
    """Silence the bars and the per-call line (idempotent; imports the modules)."""
    for name in _WITH_PROGRESS_BARS:
        namespace = vars(importlib.import_module(name))
        bar: Any = namespace["tqdm"]
        if not isinstance(bar, functools.partial):
            namespace["tqdm"] = functools.partial(bar, disable=True)
    vars(importlib.import_module(_PRINTS_PER_CALL))["print"] = _debug_print


def _debug_print(*values: Any, **_: Any) -> None:
    log.debug(" ".join(str(value) for value in values))
