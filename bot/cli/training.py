"""``parrot voices train`` and ``parrot voices training-status``: training without Discord.

The command-line face of :mod:`bot.training`: the same job rows and runner as
``/voice train``. A run interrupted here (Ctrl-C) keeps its row and checkpoints, and the
next ``parrot voices train`` of the voice resumes it; the bot leaves such jobs alone.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.cli.common import (
    console,
    error_console,
    fail,
    guarded,
    open_store,
    resolve_voice,
    run,
    settings_from,
)
from bot.runtime import build_engine, sample_limits
from bot.settings import Settings
from bot.store import Store
from bot.store.jobs import Job
from bot.store.models import Consent, ConsentPath, Voice, VoiceStatus
from bot.training.data import measured_speech, training_sources
from bot.training.recordings import TrainingRecorder, Upload
from bot.training.runner import KIND, TrainingOutcome, TrainingRunner, TrainingUpdate
from bot.voices.files import VoiceLibrary
from engine.api import VoiceEngine


class ProgressReporter:
    """A :class:`~bot.training.runner.TrainingReporter` drawing one bar on stderr."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task = progress.add_task("waiting for its turn", total=1.0)
        self.outcome: TrainingOutcome | None = None
        self.failure: str | None = None

    async def progress(self, job: Job, update: TrainingUpdate) -> None:
        if update.stage is None:
            description = f"waiting (position {update.position})"
        elif update.stage == "training" and update.epochs:
            description = f"epoch {update.epoch}/{update.epochs}"
            if update.loss is not None:
                description += f" · loss {update.loss:.3f}"
        else:
            description = update.stage
        self._progress.update(self._task, completed=update.fraction, description=description)

    async def finished(self, job: Job, outcome: TrainingOutcome) -> None:
        self._progress.update(self._task, completed=1.0)
        self.outcome = outcome

    async def failed(self, job: Job, message: str) -> None:
        self.failure = message

    async def cancelled(self, job: Job) -> None:
        self.failure = "the training was cancelled"


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=error_console,
        transient=True,
    )


async def _job_to_run(store: Store, voice: Voice, params: dict[str, object]) -> Job:
    """This voice's CLI training a Ctrl-C interrupted, or a new job row."""
    for job in await store.jobs.unfinished(KIND):
        if job.voice_id != voice.id:
            continue
        if job.channel_id is not None:
            fail(f"voice {voice.name!r} is already training in Discord (job {job.id})")
        console.print(f"Resuming the interrupted training {job.id} of {voice.name}.")
        return job
    return await store.jobs.create(
        kind=KIND,
        user_id=None,
        guild_id=None,
        channel_id=None,
        voice_id=voice.id,
        params=params,
        input_path=None,
    )


async def _train(
    settings: Settings,
    engine: VoiceEngine,
    voice_ref: str,
    extra: list[Path],
    epochs: int,
    batch_size: int | None,
    allow_cpu: bool,
) -> TrainingOutcome:
    async with open_store(settings) as store:
        voice = await resolve_voice(store, voice_ref)
        if voice.status is not VoiceStatus.READY:
            fail(f"voice {voice.name!r} is {voice.status}, not ready: it cannot be trained")
        library = VoiceLibrary(store, settings.data_dir)
        runner = TrainingRunner(store, library, engine, settings, progress_interval=0.5)
        await engine.check_training_available(
            runner.params_for(epochs, batch_size=batch_size, allow_cpu=allow_cpu)
        )
        if extra:
            recorder = TrainingRecorder(store, library, engine, sample_limits(settings))
            uploads = [Upload(path, path.name) for path in extra]
            with console.status("Checking the extra recordings…"):
                await recorder.add(voice, uploads, consent=Consent.now(ConsentPath.CLI))
        sources = await training_sources(store, library, voice)
        speech_s = await measured_speech(sources, settings.min_training_seconds)
        console.print(
            f"Training {voice.name!r} on {speech_s:.0f} s of speech from {len(sources.paths)} "
            f"file(s), {epochs} epochs."
        )
        if speech_s < settings.recommended_training_seconds:
            console.print(
                f"Note: {settings.recommended_training_seconds:.0f} s or more of speech gives "
                "a closer model."
            )
        if sources.low_rate_samples:
            console.print(
                f"Note: {sources.low_rate_samples} sample(s) have no training copy (enrolled "
                "before they were kept) and train at 24 kHz."
            )
        params: dict[str, object] = {"voice_name": voice.name, "epochs": epochs}
        if batch_size is not None:
            params["batch_size"] = batch_size
        if allow_cpu:
            params["allow_cpu"] = True
        job = await _job_to_run(store, voice, params)
        with _bar() as progress:
            reporter = ProgressReporter(progress)
            await runner.submit(job, reporter)
        if reporter.outcome is None:
            fail(reporter.failure or "the training stopped")
        return reporter.outcome


def _check_request(settings: Settings, extra: list[Path], consent: bool, epochs: int) -> None:
    """Refusals that need neither the database nor the engine."""
    if extra and not consent:
        fail("--extra needs --consent: confirm that the voice's owner agreed to its use")
    for path in extra:
        if not path.is_file():
            fail(f"{path} does not exist or is not a file")
    if epochs > settings.max_training_epochs:
        fail(f"at most {settings.max_training_epochs} epochs (PARROT_MAX_TRAINING_EPOCHS)")


def train(
    ctx: typer.Context,
    voice: str = typer.Argument(..., help="Voice name or id."),
    epochs: int | None = typer.Option(
        None, "--epochs", min=1, help="Epochs to train (default: PARROT_DEFAULT_TRAINING_EPOCHS)."
    ),
    batch_size: int | None = typer.Option(
        None, "--batch-size", min=0, max=64, help="Segments per step (0: what fits the device)."
    ),
    extra: list[Path] = typer.Option(
        [], "--extra", help="An extra recording for training only (repeat for more)."
    ),
    allow_cpu: bool = typer.Option(
        False, "--allow-cpu", help="Train on the CPU when there is no GPU (takes days)."
    ),
    consent: bool = typer.Option(
        False, "--consent", help="Required with --extra: the voice's owner agreed to its use."
    ),
) -> None:
    """Train the voice's own singing model (RVC v2, 40 kHz) from its samples and any extra
    recordings; when done, covers sing with it."""
    settings = settings_from(ctx)
    chosen = epochs or settings.default_training_epochs
    guarded(lambda: _check_request(settings, extra, consent, chosen))

    async def body() -> TrainingOutcome:
        engine = build_engine(settings)
        try:
            return await _train(settings, engine, voice, extra, chosen, batch_size, allow_cpu)
        finally:
            await engine.shutdown()

    outcome = run(body)
    console.print(
        f"Trained {outcome.voice.name!r}: {outcome.epochs} epochs on "
        f"{outcome.seconds_of_audio:.0f} s of audio ({outcome.model}); covers now sing with it."
    )


def training_status(
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", min=1, help="How many jobs to show."),
) -> None:
    """Training jobs, unfinished first: their state, epoch, loss and time left."""
    settings = settings_from(ctx)

    async def body() -> list[Job]:
        async with open_store(settings) as store:
            return await store.jobs.recent(KIND, limit=limit)

    jobs = run(body)
    if not jobs:
        console.print("No training jobs yet.")
        return
    table = Table("job", "voice", "from", "state", "progress", "epoch", "loss", "left", "updated")
    for job in jobs:
        detail = job.detail
        epoch = f"{detail['epoch']}/{detail['epochs']}" if detail.get("epochs") else "-"
        loss = f"{detail['loss']:.3f}" if detail.get("loss") is not None else "-"
        left = f"{detail['seconds_left'] / 60:.0f} min" if detail.get("seconds_left") else "-"
        state = str(job.state) + (f": {job.error}" if job.error else "")
        table.add_row(
            job.id,
            str(job.params.get("voice_name", job.voice_id or "-")),
            "Discord" if job.channel_id is not None else "CLI",
            state,
            f"{job.progress:.0%}",
            epoch,
            loss,
            left,
            job.updated_at[:19],
        )
    console.print(table)
