"""The checks behind ``parrot doctor``: is everything Parrot needs on this machine."""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import subprocess
from dataclasses import dataclass
from enum import StrEnum

from bot.settings import Settings
from bot.store import Store
from bot.store.migrations import latest_version
from bot.store.presets import PresetStatus
from engine.api import (
    DeviceUnavailableError,
    EngineKind,
    ParrotError,
    WeightsState,
    configured_tts_status,
    demucs_status,
    describe_workers,
    resolve_device,
    rvc_statuses,
)

MIN_FREE_BYTES = 2 * 1024**3
PRESETS_SCHEMA = 2
"""The schema version that added the presets table."""


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    level: Level
    detail: str
    fix: str = ""


def check_ffmpeg() -> CheckResult:
    path = shutil.which("ffmpeg")
    if path is None:
        return CheckResult("ffmpeg", Level.FAIL, "not found on PATH", "apt-get install ffmpeg")
    try:
        output = subprocess.run(
            [path, "-version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (subprocess.SubprocessError, OSError) as error:
        return CheckResult(
            "ffmpeg", Level.FAIL, f"{path} does not run: {error}", "reinstall ffmpeg"
        )
    version = " ".join(output.split()[:3]) if output else path
    return CheckResult("ffmpeg", Level.OK, version)


def check_opus() -> CheckResult:
    import discord.opus

    try:
        loaded = discord.opus._load_default()
    except Exception as error:  # a broken library raises various OSErrors
        return CheckResult("libopus", Level.FAIL, str(error), "apt-get install libopus0")
    if not loaded:
        return CheckResult("libopus", Level.FAIL, "libopus not found", "apt-get install libopus0")
    return CheckResult("libopus", Level.OK, f"Opus {discord.opus._OpusStruct.get_opus_version()}")


def check_module(module: str, name: str, why: str, fix: str) -> CheckResult:
    try:
        imported = importlib.import_module(module)
    except Exception as error:
        return CheckResult(name, Level.FAIL, f"cannot import {module}: {error} ({why})", fix)
    version = getattr(imported, "__version__", "") or getattr(imported, "__VERSION__", "")
    return CheckResult(name, Level.OK, f"{module} {version}".strip())


def check_torch(settings: Settings) -> CheckResult:
    try:
        import torch
    except Exception as error:
        return CheckResult(
            "torch",
            Level.FAIL,
            f"cannot import torch: {error}",
            "re-run the set-up command from the README",
        )
    try:
        device = resolve_device(settings.device)
    except DeviceUnavailableError as error:
        return CheckResult("torch", Level.FAIL, str(error), "set PARROT_DEVICE=auto or cpu")
    cuda = (
        f"CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}"
        if torch.cuda.is_available()
        else "no CUDA GPU"
    )
    level = Level.OK if device != "cpu" else Level.WARN
    fix = "" if device != "cpu" else "speech on CPU is slower than real time; a GPU is advised"
    return CheckResult("torch", level, f"torch {torch.__version__}, {cuda}, using {device}", fix)


def check_models(settings: Settings) -> CheckResult:
    status = configured_tts_status(settings.engine_config())
    if not status.ready:
        where = (
            f"{settings.models_dir / status.key}"
            if settings.models_dir
            else "the Hugging Face cache"
        )
        return CheckResult(
            "tts weights",
            Level.WARN,
            f"{status.description} ({status.repository}) is not in {where}",
            f"download {status.repository} while online, or copy its files to "
            f"PARROT_MODELS_DIR/{status.key}",
        )
    return CheckResult("tts weights", Level.OK, f"{status.repository} at {status.location}")


def check_separation_model(settings: Settings) -> CheckResult:
    """Covers are optional: a missing Demucs model only turns them off (WARN)."""
    name = settings.separation_model.value
    status = demucs_status(settings.engine_config(), settings.separation_model)
    command = status.download_command
    if status.state is WeightsState.MISSING:
        detail = f"Demucs {name} (song separation) is not downloaded: covers are off"
        return CheckResult("cover separation", Level.WARN, detail, f"run `{command}`")
    if status.state is WeightsState.BROKEN:
        return CheckResult("cover separation", Level.WARN, status.problem, f"run `{command}`")
    return CheckResult("cover separation", Level.OK, f"Demucs {name}")


def check_rvc_models(settings: Settings) -> CheckResult:
    """ContentVec and RMVPE: needed only by voices with an RVC singing model (WARN)."""
    statuses = rvc_statuses(settings.engine_config())
    missing = [status.key for status in statuses if not status.ready]
    if missing:
        return CheckResult(
            "rvc weights",
            Level.WARN,
            f"{' and '.join(missing)} not downloaded: RVC covers are off (zero-shot still works)",
            f"run `{statuses[0].download_command}`",
        )
    return CheckResult("rvc weights", Level.OK, ", ".join(status.key for status in statuses))


async def check_database(settings: Settings) -> CheckResult:
    if not settings.database_path.exists():
        return CheckResult(
            "database", Level.OK, f"{settings.database_path} will be created on first start"
        )
    try:
        store = await Store.open(settings.database_path, migrate=False)
    except Exception as error:
        return CheckResult("database", Level.FAIL, str(error), "see `parrot db status`")
    try:
        problems = await store.db.integrity_check()
        version = await store.db.schema_version()
    finally:
        await store.close()
    if problems:
        return CheckResult(
            "database", Level.FAIL, "; ".join(problems[:3]), "restore a backup of parrot.db"
        )
    latest = latest_version()
    if version < latest:
        return CheckResult(
            "database",
            Level.WARN,
            f"schema {version}, code expects {latest}",
            "run `parrot db migrate` (the bot also does this on start)",
        )
    return CheckResult("database", Level.OK, f"schema {version}, integrity ok")


def check_disk(settings: Settings) -> CheckResult:
    target = settings.data_dir if settings.data_dir.exists() else settings.data_dir.parent
    try:
        free = shutil.disk_usage(target.resolve()).free
    except OSError as error:
        return CheckResult(
            "disk", Level.FAIL, f"cannot read {target}: {error}", "check PARROT_DATA"
        )
    detail = f"{free / 1024**3:.1f} GiB free at {target.resolve()}"
    if free < MIN_FREE_BYTES:
        return CheckResult("disk", Level.WARN, detail, "free some space: covers need several GiB")
    return CheckResult("disk", Level.OK, detail)


async def check_presets(settings: Settings) -> list[CheckResult]:
    """One line for the preset voices, plus a warning for every reference that failed."""
    folder = settings.references_dir
    if not settings.database_path.exists():
        return [CheckResult("presets", Level.OK, f"{folder} is imported on first start")]
    try:
        store = await Store.open(settings.database_path, migrate=False)
    except Exception:  # check_database reports why
        return []
    try:
        if await store.db.schema_version() < PRESETS_SCHEMA:
            return []
        presets = await store.presets.all()
    finally:
        await store.close()
    results = [
        CheckResult(
            f"preset {preset.name}",
            Level.WARN,
            f"{preset.source}: {preset.error}",
            "fix or remove the file, then run `parrot voices import-references`",
        )
        for preset in presets
        if preset.status is PresetStatus.FAILED
    ]
    ready = sum(1 for preset in presets if preset.status is PresetStatus.READY)
    if not folder.is_dir() and presets:
        results.append(
            CheckResult(
                "presets",
                Level.WARN,
                f"{folder} does not exist; {ready} preset(s) kept from earlier imports",
                "set PARROT_REFERENCES_DIR, or start Parrot from the folder that holds it",
            )
        )
    elif not results:
        where = f"from {folder}" if folder.is_dir() else f"({folder} does not exist; optional)"
        results.append(CheckResult("presets", Level.OK, f"{ready} ready {where}"))
    return results


async def check_ray(settings: Settings) -> CheckResult:
    """``PARROT_ENGINE=ray``: the cluster, Parrot's Serve application and its replicas."""
    fix = "pip install '.[ray]' (or .venv/bin/pip install 'ray[serve]==2.60.0')"
    if settings.ray_address == "local":
        if importlib.util.find_spec("ray") is None:
            return CheckResult("ray", Level.FAIL, "the ray extra is not installed", fix)
        return CheckResult("ray", Level.OK, "local cluster: started inside the bot when it runs")
    try:
        report = await describe_workers(settings.ray_address)
    except ParrotError as error:
        return CheckResult("ray", Level.FAIL, str(error), fix)
    states = ", ".join(f"{n} {state.lower()}" for state, n in report.replica_states.items())
    detail = (
        f"{report.address}: {report.nodes} node(s), {report.gpus:g} GPU(s); application "
        f"{report.application} ({states or 'no replicas'}), {len(report.replicas)} reporting"
    )
    running = report.application == "RUNNING" and report.replicas
    level = Level.OK if running or report.application == "not deployed" else Level.WARN
    return CheckResult("ray", level, detail, "" if running else "see `parrot workers`")


async def run_checks(settings: Settings) -> list[CheckResult]:
    results = [
        check_ffmpeg(),
        check_opus(),
        check_module(
            "nacl", "PyNaCl", "voice transport encryption", "pip install 'discord.py[voice]==2.7.1'"
        ),
        check_module(
            "davey",
            "davey",
            "Discord's DAVE voice encryption, required since 2026-03",
            "pip install 'discord.py[voice]==2.7.1'",
        ),
        check_torch(settings),
        check_models(settings),
        check_separation_model(settings),
        check_rvc_models(settings),
        await check_database(settings),
        *await check_presets(settings),
        check_disk(settings),
    ]
    if settings.engine is EngineKind.RAY:
        results.append(await check_ray(settings))
    return results
