"""Errors of the TTS layer that people (or the owner) must be told about."""

from __future__ import annotations


class ModelNotDownloadedError(FileNotFoundError):
    """The model's weights are not on this machine; the message says how to get them."""


class VoiceNotEnrolledError(FileNotFoundError):
    """A voice has no conditionals for the configured model yet."""
