"""Small helpers shared by ``/history``, ``/stats`` and ``parrot stats``: time windows and
durations written for people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.api import ParrotError


def iso_utc(moment: datetime) -> str:
    """A time in the store's format (``2026-11-01T12:00:00.000Z``), comparable as text."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class SinceError(ParrotError, ValueError):
    """A ``--since`` value that is not a date."""


def parse_since(text: str) -> str:
    """``2026-11-01`` or ``2026-11-01T12:00`` (UTC unless an offset is given) as stored."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SinceError(
            f"--since {text!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso_utc(moment)


def days_ago(days: int, *, now: datetime | None = None) -> str:
    return iso_utc((now or datetime.now(UTC)) - timedelta(days=days))


def format_duration(seconds: float | None) -> str:
    """``4.2 s``, ``3 min 05 s``, ``2 h 07 min``; a dash for unknown."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def stored_time(text: str) -> datetime:
    """A stored ISO-8601 UTC time as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
