"""``parrot models``: which weights are here, fetch them, and free GPU memory."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from bot.cli.common import console, fail, reports_errors, settings_from
from bot.runtime import UNLOAD_REQUEST
from engine.config import TTSModel
from engine.files import atomic_write_bytes
from engine.models import TTS_MODELS, ModelSpec, find_weights

app = typer.Typer(help="Model weights: list, download, unload.", no_args_is_help=True)


@app.command("list")
def list_models(ctx: typer.Context) -> None:
    """Show each model, whether its weights are on this machine, and where."""
    settings = settings_from(ctx)
    config = settings.engine_config()
    table = Table("model", "hub repository", "in use", "weights")
    for variant, spec in TTS_MODELS.items():
        folder = find_weights(config, spec)
        table.add_row(
            variant.value,
            spec.repo_id,
            "yes" if variant is settings.tts_model else "",
            str(folder) if folder else "[yellow]not downloaded[/]",
        )
    console.print(table)


@app.command()
@reports_errors
def download(
    ctx: typer.Context,
    model: str = typer.Argument(
        "configured", help="original, turbo, multilingual, all, or configured (PARROT_TTS_MODEL)."
    ),
) -> None:
    """Download weights from the Hugging Face hub (into PARROT_MODELS_DIR when set)."""
    settings = settings_from(ctx)
    if model == "configured":
        variants = [settings.tts_model]
    elif model == "all":
        variants = list(TTS_MODELS)
    else:
        try:
            variants = [TTSModel(model)]
        except ValueError:
            fail(f"unknown model {model!r}: choose original, turbo, multilingual or all")
    for variant in variants:
        spec = TTS_MODELS[variant]
        target = settings.models_dir / spec.key if settings.models_dir else None
        console.print(f"Downloading {spec.description} from {spec.repo_id}…")
        folder = _download(spec, target)
        console.print(f"  ready at {folder}")


def _download(spec: ModelSpec, target: Path | None) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(
            snapshot_download(
                spec.repo_id, allow_patterns=list(spec.download_patterns), local_dir=target
            )
        )
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        hint = " (HF_HUB_OFFLINE is set)" if "offline" in reason.lower() else ""
        fail(
            f"could not download {spec.repo_id}{hint}: {reason}. On a machine without "
            f"internet, copy the files into PARROT_MODELS_DIR/{spec.key} instead"
        )


@app.command()
@reports_errors
def unload(
    ctx: typer.Context,
    wait: float = typer.Option(10.0, help="Seconds to wait for the running bot to confirm."),
) -> None:
    """Ask the running bot to release its models from GPU memory now."""
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
