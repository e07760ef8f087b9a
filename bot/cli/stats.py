"""``parrot stats``: usage per voice and per member, as tables or JSON."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli.common import console, discord_id_option, guarded, open_store, run, settings_from
from bot.store.generations import Usage, UsageLine
from bot.usage import format_duration, parse_since


def stats(
    ctx: typer.Context,
    guild: int | None = discord_id_option("Only this Discord server id.", "--guild"),
    since: str | None = typer.Option(
        None, "--since", help="Only from this date on: YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """How much Parrot was used: speech and covers, per voice and per member."""
    settings = settings_from(ctx)
    start = None if since is None else guarded(lambda: parse_since(since))

    async def body() -> Usage:
        async with open_store(settings) as store:
            return await store.generations.usage(guild_id=guild, since=start)

    usage = run(body)
    if as_json:
        typer.echo(json.dumps(usage.as_dict(), indent=2))
        return
    scope = f"server {guild}" if guild is not None else "all servers"
    window = f" since {start[:16].replace('T', ' ')} UTC" if start else ""
    console.print(f"Usage in {scope}{window}: {_summary(usage.totals)}", markup=False)
    if not usage.totals.uses:
        return
    console.print(_table("voice", usage.by_voice))
    console.print(_table("member", usage.by_member))


def _summary(line: UsageLine) -> str:
    return (
        f"{line.uses} generation(s): {line.speeches} speech ({line.characters} characters), "
        f"{line.covers} cover(s) ({format_duration(line.input_seconds)} of songs), "
        f"{format_duration(line.audio_seconds)} of audio in {format_duration(line.elapsed_seconds)}"
    )


def _table(what: str, lines: list[UsageLine]) -> Table:
    table = Table(
        what,
        "uses",
        "speech",
        "characters",
        "covers",
        "song time",
        "audio",
        "time taken",
        title=f"By {what}",
    )
    for line in lines:
        table.add_row(
            escape(line.label),
            str(line.uses),
            str(line.speeches),
            str(line.characters),
            str(line.covers),
            format_duration(line.input_seconds),
            format_duration(line.audio_seconds),
            format_duration(line.elapsed_seconds),
        )
    return table
