"""``parrot db``: schema migrations and integrity."""

from __future__ import annotations

import typer

from bot.cli.common import console, fail, open_store, run, settings_from
from bot.store import Store
from bot.store.migrations import latest_version

app = typer.Typer(help="Database schema and health.", no_args_is_help=True)


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Apply pending migrations (the bot also does this when it starts)."""
    settings = settings_from(ctx)

    async def body() -> None:
        async with open_store(settings, migrate=False) as store:
            before = await store.db.schema_version()
        async with open_store(settings) as store:
            after = await store.db.schema_version()
        if after == before:
            console.print(f"Database is up to date at schema version {after}.")
        else:
            console.print(f"Migrated {settings.database_path} from version {before} to {after}.")

    run(body)


@app.command()
def status(ctx: typer.Context) -> None:
    """Show the schema version, pending migrations and row counts."""
    settings = settings_from(ctx)
    path = settings.database_path

    async def body() -> None:
        latest = latest_version()
        if not path.exists():
            console.print(
                f"No database yet at {path}; it is created on first start (schema {latest})."
            )
            return
        async with open_store(settings, migrate=False) as store:
            version = await store.db.schema_version()
            counts = await _counts(store)
        console.print(f"Database: {path} ({path.stat().st_size / 1024:.0f} KiB)")
        console.print(f"Schema version: {version} (this Parrot: {latest})")
        if version < latest:
            console.print(f"Pending migrations: {latest - version} (run `parrot db migrate`)")
        for table, count in counts.items():
            console.print(f"  {table}: {count}")

    run(body)


@app.command()
def check(ctx: typer.Context) -> None:
    """Run SQLite's integrity and foreign-key checks; exit 1 on any problem."""
    settings = settings_from(ctx)

    async def body() -> None:
        if not settings.database_path.exists():
            fail(f"no database at {settings.database_path}")
        async with open_store(settings, migrate=False) as store:
            problems = await store.db.integrity_check()
        if problems:
            for problem in problems:
                console.print(f"problem: {problem}", markup=False)
            fail(f"{len(problems)} integrity problem(s) found in {settings.database_path}")
        console.print("Integrity check passed.")

    run(body)


async def _counts(store: Store) -> dict[str, int]:
    tables = (
        "voices",
        "voice_samples",
        "voice_hides",
        "guild_settings",
        "member_settings",
        "jobs",
        "generations",
        "audit_log",
    )
    # A database behind the code may lack some tables: count only those it has.
    return await store.db.row_counts(tables)
