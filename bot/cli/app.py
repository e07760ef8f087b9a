"""The ``parrot`` command: ``run`` the bot, and administer it offline."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import warnings
from pathlib import Path

import discord
import typer
from rich.table import Table

import bot
from bot.cli import audit, covers, db, models, purge, speech, stats, training, voices, workers
from bot.cli.common import (
    OneLineErrorsGroup,
    console,
    discord_id_option,
    fail,
    guarded,
    run,
    settings_from,
)
from bot.client import ParrotBot, create_bot
from bot.health import Level, run_checks
from bot.settings import Settings

app = typer.Typer(
    cls=OneLineErrorsGroup,
    help="Parrot: a Discord bot that speaks and sings in enrolled voices.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db.app, name="db")
app.add_typer(voices.app, name="voices")
app.add_typer(models.app, name="models")
app.command("say")(speech.say)
app.command("cover")(covers.cover)
voices.app.command("singing-model")(covers.singing_model)
voices.app.command("train")(training.train)
voices.app.command("training-status")(training.training_status)
app.command("stats")(stats.stats)
app.command("purge")(purge.purge)
app.command("audit")(audit.audit)
app.command("workers")(workers.workers)


def _version(value: bool) -> None:
    if value:
        console.print(f"parrot {bot.__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    data_dir: Path | None = typer.Option(
        None,
        "--data",
        help="Data directory (default: PARROT_DATA or ./data).",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Parrot's admin CLI. Settings come from PARROT_* variables and .env."""
    # Without logging set up (only `parrot run` sets it up), Python would print Parrot's own
    # warnings raw next to the command's `parrot:` line; the command reports what matters.
    quiet = logging.getLogger("bot")
    if not any(isinstance(handler, logging.NullHandler) for handler in quiet.handlers):
        quiet.addHandler(logging.NullHandler())


def configure_logging(level: str) -> None:
    discord.utils.setup_logging(level=getattr(logging, level), root=True)


@app.command("run")
def run_bot(ctx: typer.Context) -> None:
    """Run the bot until interrupted (Ctrl-C or SIGTERM stop it cleanly)."""
    settings = settings_from(ctx)
    token = guarded(settings.require_token)
    configure_logging(settings.log_level)
    run(lambda: _serve(settings, token))


async def _serve(settings: Settings, token: str) -> None:
    parrot = create_bot(settings)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(parrot.close()))
    try:
        async with parrot:
            await parrot.start(token)
    except discord.LoginFailure:
        fail(
            "Discord rejected DISCORD_TOKEN: reset the token in the developer portal "
            "(Bot → Reset Token) and update it"
        )
    except discord.PrivilegedIntentsRequired:
        fail(
            "Discord refused the Message Content intent (used by /autoread): enable it in the "
            "developer portal (Bot → Privileged Gateway Intents) or set PARROT_READ_MESSAGES=false"
        )


@app.command()
def sync(
    ctx: typer.Context,
    guild: int | None = discord_id_option(
        "Sync to one server only (instant); without it, globally (may take a while)."
    ),
) -> None:
    """Register the slash commands with Discord. Run after an upgrade, not on every start."""
    settings = settings_from(ctx)
    token = guarded(settings.require_token)
    commands = run(lambda: sync_commands(settings, token, guild))
    where = f"server {guild}" if guild else "all servers"
    console.print(f"Synced {len(commands)} command(s) to {where}: {', '.join(commands)}")


async def sync_commands(settings: Settings, token: str, guild_id: int | None) -> list[str]:
    """Log in over HTTP only (no gateway), load the extensions, and sync the command tree."""
    parrot = ParrotBot(settings)
    async with parrot:
        try:
            await parrot.login(token)
        except discord.LoginFailure:
            fail("Discord rejected DISCORD_TOKEN: reset the token and update it")
        if guild_id is None:
            synced = await parrot.tree.sync()
        else:
            target = discord.Object(id=guild_id)
            parrot.tree.copy_global_to(guild=target)
            synced = await parrot.tree.sync(guild=target)
    return [command.name for command in synced]


@app.command()
def doctor(ctx: typer.Context) -> None:
    """Check ffmpeg, Opus, voice encryption, torch/CUDA, model files, database and disk."""
    settings = settings_from(ctx)
    results = run(lambda: run_checks(settings))
    table = Table("check", "state", "detail", "what to do")
    colours = {Level.OK: "green", Level.WARN: "yellow", Level.FAIL: "red"}
    for result in results:
        table.add_row(
            result.name, f"[{colours[result.level]}]{result.level}[/]", result.detail, result.fix
        )
    console.print(table)
    failures = [r.name for r in results if r.level is Level.FAIL]
    if failures:  # guarded: one line on stderr and exit 1, not a CliError traceback
        guarded(lambda: fail(f"{len(failures)} required check(s) failed: {', '.join(failures)}"))


def quiet_libraries() -> None:
    """Hide upstream deprecation chatter and per-token progress bars from operators."""
    os.environ.setdefault("TQDM_DISABLE", "1")  # chatterbox prints a bar per sentence
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def main() -> None:
    quiet_libraries()
    app()


if __name__ == "__main__":
    main()
