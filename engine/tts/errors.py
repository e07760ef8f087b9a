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


class NothingToSayError(ParrotError, ValueError):
    """The text holds no words to speak (only punctuation, emoji or spaces)."""

    def for_member(self) -> str:
        return "There is nothing to say aloud in that text: give it some words."


class VoiceNotEnrolledError(ParrotError, FileNotFoundError):
    """A voice has no conditionals for the configured model yet."""

    def for_member(self) -> str:
        return "That voice is not ready for the current model; enrol it again."


class UnsupportedLanguageError(ParrotError, ValueError):
    """The model does not speak the language asked for."""


class EnglishOnlyError(UnsupportedLanguageError):
    """A language other than English asked of a model that speaks only English."""

    def for_member(self) -> str:
        return "This bot's voice model speaks only English; the bot owner can switch it."
