"""Errors of stem separation, worded for the person who asked for the cover."""

from __future__ import annotations

from engine.errors import ParrotError
from engine.tts.errors import ModelNotDownloadedError


class DemucsNotDownloadedError(ModelNotDownloadedError):
    """The Demucs weights are not on this machine; the message says how to get them."""


class DemucsCheckpointError(RuntimeError):
    """A local Demucs folder is there but broken; the message names what is wrong."""


class SongTooLongError(ParrotError, ValueError):
    """The song is longer than the configured limit; refused before any separation."""
