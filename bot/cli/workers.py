"""``parrot workers``: the Ray replicas doing Parrot's voice work (``PARROT_ENGINE=ray``)."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.table import Table

from bot.cli.common import console, fail, run, settings_from
from engine.api import EngineKind, WorkersReport, describe_workers

SHORT_HASH = 10


def workers(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List the Ray replicas: their node, GPU, load and the voices they hold."""
    settings = settings_from(ctx)
    if settings.engine is not EngineKind.RAY:
        fail("PARROT_ENGINE is embedded: the models run inside the bot, there are no workers")
    report = run(lambda: describe_workers(settings.ray_address))
    if as_json:
        typer.echo(json.dumps(asdict(report), indent=2))
        return
    console.print(summary(report), markup=False)
    if report.replicas:
        console.print(replica_table(report))


def summary(report: WorkersReport) -> str:
    states = ", ".join(f"{count} {state.lower()}" for state, count in report.replica_states.items())
    return (
        f"Ray cluster at {report.address}: {report.nodes} node(s), {report.cpus:g} CPU(s), "
        f"{report.gpus:g} GPU(s); Parrot application {report.application}"
        + (f" ({states})" if states else "")
    )


def replica_table(report: WorkersReport) -> Table:
    table = Table("replica", "node", "device", "GPU", "load", "queued", "models", "voices held")
    for replica in report.replicas:
        voices = ", ".join(voice[:SHORT_HASH] for voice in replica.voices)
        table.add_row(
            replica.replica,
            replica.node,
            replica.device,
            ", ".join(replica.gpus) or "-",
            str(replica.ongoing),
            str(replica.queued_jobs),
            ", ".join(replica.loaded_models) or "-",
            f"{len(replica.voices)}: {voices}" if replica.voices else "0",
        )
    return table
