"""Voice names people can type and read back."""

from __future__ import annotations

import re

from engine.api import ParrotError

_VOICE_NAME = re.compile(r"^[\w][\w .'\-]{0,31}$", re.UNICODE)


class VoiceNameError(ParrotError, ValueError):
    """A voice name people could not type or read back."""


def check_voice_name(name: str) -> str:
    """A voice name people can type: 1–32 letters, digits, spaces, ``.'-_``."""
    name = name.strip()
    if not _VOICE_NAME.match(name):
        raise VoiceNameError(
            "voice names are 1 to 32 characters: letters, digits, spaces and . ' - _"
        )
    return name
