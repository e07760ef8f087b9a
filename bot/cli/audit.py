"""``parrot audit``: who did what to which voice or setting, and when."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli.common import (
    console,
    discord_id_option,
    fail,
    guarded,
    open_store,
    run,
    settings_from,
)
from bot.store import Store
from bot.store.audit import AuditEntry
from bot.usage import SinceError, iso_utc, parse_since

_SPAN = re.compile(r"(\d+)\s*([mhdw])", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, *, now: datetime | None = None) -> str:
    """``--since`` as a stored time: an ISO date or time (UTC unless it has an offset), or
    a span back from now such as ``30m``, ``12h``, ``7d`` or ``2w``."""
    span = _SPAN.fullmatch(text.strip())
    if span is not None:
        amount, unit = int(span[1]), _UNITS[span[2].lower()]
        try:
            return iso_utc((now or datetime.now(UTC)) - timedelta(**{unit: amount}))
        except OverflowError:  # "99999999w": before the calendar starts
            raise SinceError(f"--since {text!r} reaches back too far") from None
    try:
        return parse_since(text)
    except SinceError:
        raise SinceError(
            f"--since {text!r} is not a time: use YYYY-MM-DD, YYYY-MM-DDTHH:MM, "
            "or a span back from now such as 30m, 12h, 7d or 2w"
        ) from None


async def resolve_voice_id(store: Store, reference: str) -> str:
    """The id of the voice named or with id ``reference``: a voice that exists, or else one
    the audit trail remembers (deleted voices)."""
    live = await store.voices.find(reference)
    if len(live) == 1:
        return live[0].id
    if len(live) > 1:
        ids = ", ".join(f"{voice.id} (owner {voice.owner_id})" for voice in live)
        fail(f"{len(live)} voices are named {reference!r}: use an id instead: {ids}")
    past = await store.audit.voice_ids(reference)
    if len(past) == 1:
        return past[0]
    if len(past) > 1:
        fail(f"{len(past)} deleted voices were named {reference!r}: use an id: {', '.join(past)}")
    fail(f"no voice named or with id {reference!r}, now or in the audit trail")


def audit(
    ctx: typer.Context,
    voice: str | None = typer.Option(
        None, "--voice", help="Only this voice: a name or id (deleted voices by id or old name)."
    ),
    member: int | None = discord_id_option(
        "Only entries this Discord user id made or about their voices.", "--member"
    ),
    guild: int | None = discord_id_option("Only this Discord server id.", "--guild"),
    since: str | None = typer.Option(
        None,
        "--since",
        help="Only from then on: YYYY-MM-DD, YYYY-MM-DDTHH:MM (UTC) or a span: 30m, 12h, 7d, 2w.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array for scripts."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many entries."),
) -> None:
    """The audit trail: enrolments, samples, renames, sharing, hides, deletions, singing
    models, settings and purges, newest first."""
    settings = settings_from(ctx)
    start = None if since is None else guarded(lambda: parse_when(since))

    async def body() -> list[AuditEntry]:
        async with open_store(settings) as store:
            voice_id = None if voice is None else await resolve_voice_id(store, voice)
            return await store.audit.entries(
                voice_id=voice_id, member_id=member, guild_id=guild, since=start, limit=limit
            )

    entries = run(body)
    if as_json:
        typer.echo(json.dumps([entry.as_dict() for entry in entries], indent=2))
        return
    if not entries:
        console.print("No audit entries match.")
        return
    table = Table(
        "when (UTC)", "who", "action", "voice", "owner", "server", "detail", title="Newest first"
    )
    for entry in entries:
        table.add_row(
            entry.at[:19].replace("T", " "),
            str(entry.who),
            entry.action.value,
            escape(_voice_cell(entry)),
            _or_dash(entry.voice_owner_id),
            _or_dash(entry.guild_id),
            escape(_detail_cell(entry)),
        )
    console.print(table)
    if len(entries) == limit:
        console.print(f"(the newest {limit}: --limit shows more)", markup=False)


def _voice_cell(entry: AuditEntry) -> str:
    if entry.voice_id is None:
        return "-"
    return f"{entry.voice_name} ({entry.voice_id})" if entry.voice_name else entry.voice_id


def _detail_cell(entry: AuditEntry) -> str:
    if not entry.detail:
        return ""
    return ", ".join(f"{key}={value}" for key, value in entry.detail.items())


def _or_dash(value: int | None) -> str:
    return "-" if value is None else str(value)
