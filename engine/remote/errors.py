"""What goes wrong between the bot and its Ray workers, worded for people."""

from __future__ import annotations

from engine.errors import ParrotError


class RayNotInstalledError(ParrotError, RuntimeError):
    exit_code = 2

    def __init__(self) -> None:
        super().__init__(
            "PARROT_ENGINE=ray needs Ray Serve: install the extra with `pip install '.[ray]'`"
        )

    def for_member(self) -> str:
        return "The voice workers are not set up; the bot owner should check `parrot doctor`."


class RayUnavailableError(ParrotError, ConnectionError):
    """The cluster (or the Parrot application on it) cannot be reached or started."""

    exit_code = 3

    def for_member(self) -> str:
        return "The voice workers cannot be reached right now; please try again later."


class WorkerLostError(ParrotError, RuntimeError):
    """A replica died or stopped answering while it worked on a request."""

    def for_member(self) -> str:
        return "The voice worker doing this stopped mid-way, so it was cut short. Please try again."


class BlobMissingError(ParrotError, LookupError):
    """A replica was sent a hash that the cluster's blob registry no longer holds."""
