"""``parrot purge``: delete a member's or a server's data, or audio past its retention."""

from __future__ import annotations

import typer

from bot.cli.common import (
    console,
    discord_id_option,
    fail,
    guarded,
    open_store,
    run,
    settings_from,
)
from bot.privacy import PrivacyService, PurgeReport, RetentionReport
from bot.store.audit import Who

MAX_DAYS = 36_500
"""A century: longer than any retention, and still a date the calendar can count back to."""


def purge(
    ctx: typer.Context,
    member: int | None = discord_id_option(
        "Delete everything about this Discord user id, in every server.", "--member"
    ),
    guild: int | None = discord_id_option(
        "Delete everything about this server id (it removed the bot).", "--guild"
    ),
    expired: bool = typer.Option(
        False, "--expired", help="Delete generated audio older than the retention period."
    ),
    days: int | None = typer.Option(
        None,
        "--days",
        min=1,
        max=MAX_DAYS,
        help="With --expired: this many days instead of the setting.",
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete data for good: one of --member ID, --guild ID or --expired.

    The audit trail keeps its entries but forgets the member (who acted, their voices) or
    the server (where, and the voices deleted with it)."""
    settings = settings_from(ctx)
    chosen = [name for name, on in (("--member", member), ("--guild", guild)) if on is not None]
    if expired:
        chosen.append("--expired")
    if len(chosen) != 1:
        guarded(lambda: fail("give exactly one of --member ID, --guild ID or --expired"))
    if days is not None and not expired:
        guarded(lambda: fail("--days only goes with --expired"))
    retention = days if days is not None else settings.retention_days
    if expired and retention == 0:
        guarded(lambda: fail("retention is off (PARROT_RETENTION_DAYS=0): pass --days N to expire"))

    if member is not None:
        question = f"Delete every voice, sample, file, history entry and setting of user {member}?"
    elif guild is not None:
        question = (
            f"Delete server {guild}'s settings, the voices enrolled there, its history, "
            "jobs and files?"
        )
    else:
        question = f"Delete generated audio older than {retention} day(s)?"
    if not yes and not typer.confirm(question):
        console.print("Nothing deleted.")
        raise typer.Exit(1)

    async def body() -> PurgeReport | RetentionReport:
        async with open_store(settings) as store:
            service = PrivacyService(store, settings.data_dir)
            await service.finish_interrupted()
            if member is not None:
                return await service.purge_member(member, who=Who.cli())
            if guild is not None:
                return await service.purge_guild(guild, who=Who.cli())
            return await service.expire_audio(retention)

    report = run(body)
    if isinstance(report, RetentionReport):
        console.print(
            f"Removed {len(report.files_removed)} generated audio file(s) from before "
            f"{report.cutoff[:16].replace('T', ' ')} UTC.",
            markup=False,
        )
        return
    who = f"user {member}" if member is not None else f"server {guild}"
    console.print(f"Purged {who}: {describe_purge(report)}.", markup=False)


def describe_purge(report: PurgeReport) -> str:
    rows = report.rows
    settings_rows = rows.get("member_settings", 0) + rows.get("guild_settings", 0)
    return (
        f"{report.voices} voice(s), {rows.get('generations', 0)} history row(s), "
        f"{rows.get('jobs', 0)} job(s), {settings_rows} setting row(s), "
        f"{report.files_removed} file(s)"
    )
