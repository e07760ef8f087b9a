"""Errors of the TTS layer that people (or the owner) must be told about."""

from __future__ import annotations

import re

from engine.errors import ParrotError

_DOWNLOAD_COMMAND = re.compile(r"`(parrot models download[^`]*)`")


class ModelNotDownloadedError(ParrotError, FileNotFoundError):
    """The model's weights are not on this machine; the message says how to get them."""

    def for_member(self) -> str:
        command = _DOWNLOAD_COMMAND.search(str(self))
        return (
            "The model this needs is not downloaded on this bot yet; ask the bot owner to run "
            f"`{command.group(1) if command else 'parrot models download'}`."
        )


class VoiceNotEnrolledError(ParrotError, FileNotFoundError):
    """A voice has no conditionals for the configured model yet."""

    def for_member(self) -> str:
        return "That voice is not ready for the current model; enrol it again."


class UnsupportedLanguageError(ParrotError, ValueError):
    """The model does not speak the language asked for."""
