"""``parrot models``: which weights are here, fetch them, and free GPU memory."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from bot.cli import cover_models
from bot.cli.common import console, fail, reports_errors, settings_from
from bot.runtime import UNLOAD_REQUEST
from bot.settings import Settings
from engine.config import SeparationModel, TTSModel
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
    for row in cover_models.cover_model_rows(settings):
        table.add_row(*row)
    console.print(table)


@app.command()
@reports_errors
def download(
    ctx: typer.Context,
    model: str = typer.Argument(
        "configured",
        help="original, turbo, multilingual, all, configured (PARROT_TTS_MODEL); for covers: "
        "demucs (song separation) or rvc (ContentVec + RMVPE).",
    ),
    separation: SeparationModel | None = typer.Option(
        None, "--model", help="With demucs: htdemucs or htdemucs_ft (PARROT_SEPARATION_MODEL)."
    ),
) -> None:
    """Download weights from the Hugging Face hub (into PARROT_MODELS_DIR when set)."""
    settings = settings_from(ctx)
    if separation is not None and model != "demucs":
        fail("--model only goes with `parrot models download demucs`")
    if model in cover_models.COVER_MODELS:
        _download_cover_models(settings, model, separation or settings.separation_model)
        return
    if model == "configured":
        variants = [settings.tts_model]
    elif model == "all":
        variants = list(TTS_MODELS)
    else:
        try:
            variants = [TTSModel(model)]
        except ValueError:
            fail(
                f"unknown model {model!r}: choose original, turbo, multilingual, all, demucs or rvc"
            )
    for variant in variants:
        _fetch(TTS_MODELS[variant], settings)


def _fetch(spec: ModelSpec, settings: Settings) -> None:
    target = settings.models_dir / spec.key if settings.models_dir else None
    console.print(f"Downloading {spec.description} from {spec.repo_id}…")
    folder = _download(spec, target)
    console.print(f"  ready at {folder}")


def _download_cover_models(settings: Settings, model: str, separation: SeparationModel) -> None:
    if model == "rvc":
        cover_models.refuse_rvc_offline(settings)
        for spec in cover_models.rvc_specs():
            _fetch(spec, settings)
        return
    console.print(f"Downloading Demucs {separation.value} (song separation)…")
    folder = cover_models.download_demucs_model(settings, separation.value, _download)
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
