"""``parrot models``: which weights are here, fetch them, and free GPU memory."""

from __future__ import annotations

import time

import typer
from rich.table import Table

from bot.cli.common import console, fail, reports_errors, settings_from
from bot.runtime import UNLOAD_REQUEST
from engine.api import (
    ModelDownloadError,
    ModelGroup,
    ModelStatus,
    SeparationModel,
    WeightsState,
    atomic_write_bytes,
    model_catalogue,
    plan_downloads,
)

app = typer.Typer(help="Model weights: list, download, unload.", no_args_is_help=True)

NOT_DOWNLOADED = "[yellow]not downloaded[/]"
MAX_WAIT_S = 3600.0
IN_USE = {
    ModelGroup.TTS: "yes",
    ModelGroup.SEPARATION: "covers",
    ModelGroup.RVC: "rvc covers",
    ModelGroup.TRAINING: "training",
}


def _weights_cell(status: ModelStatus) -> str:
    if status.state is WeightsState.BROKEN:
        return f"[red]broken[/]: {status.problem}"
    return status.location or NOT_DOWNLOADED


@app.command("list")
def list_models(ctx: typer.Context) -> None:
    """Show each model, whether its weights are on this machine, and where."""
    settings = settings_from(ctx)
    table = Table("model", "hub repository", "in use", "weights")
    for status in model_catalogue(settings.engine_config()):
        in_use = IN_USE[status.group] if status.in_use else ""
        table.add_row(status.name, status.repository, in_use, _weights_cell(status))
    console.print(table)


@app.command()
@reports_errors
def download(
    ctx: typer.Context,
    model: str = typer.Argument(
        "configured",
        help="original, turbo, multilingual, all, configured (PARROT_TTS_MODEL); for covers: "
        "demucs (song separation) or rvc (ContentVec + RMVPE); for /voice train: "
        "rvc-pretrained (RVC v2 40k generator + discriminator).",
    ),
    separation: SeparationModel | None = typer.Option(
        None, "--model", help="With demucs: htdemucs or htdemucs_ft (PARROT_SEPARATION_MODEL)."
    ),
) -> None:
    """Download weights from the Hugging Face hub (into PARROT_MODELS_DIR when set)."""
    settings = settings_from(ctx)
    if separation is not None and model != "demucs":
        fail("--model only goes with `parrot models download demucs`")
    try:
        for planned in plan_downloads(settings.engine_config(), model, separation):
            console.print(planned.announcement)
            folder = planned.run()
            console.print(f"  ready at {folder}")
    except ModelDownloadError as error:
        fail(str(error))


@app.command()
@reports_errors
def unload(
    ctx: typer.Context,
    wait: float = typer.Option(10.0, help="Seconds to wait for the running bot to confirm."),
) -> None:
    """Ask the running bot to release its models from GPU memory now."""
    if not 0 < wait <= MAX_WAIT_S:  # NaN fails this too
        fail(f"--wait takes seconds, more than 0 and at most {MAX_WAIT_S:.0f}")
    settings = settings_from(ctx)
    request = settings.data_dir / UNLOAD_REQUEST
    atomic_write_bytes(request, b"unload\n")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if not request.exists():
            console.print("The running bot released its models.")
            return
        time.sleep(0.2)
    request.unlink(missing_ok=True)
    fail(
        f"no running bot answered within {wait:.0f} s (is `parrot run` using {settings.data_dir}?)"
    )
