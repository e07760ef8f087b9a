"""What a training's message and its owner's direct message say (plain text)."""

from __future__ import annotations

import discord

from bot.store.jobs import Job
from bot.training.runner import TrainingOutcome, TrainingUpdate

BAR_WIDTH = 12
STAGE_LABELS = {
    "preparing": "preparing the recordings",
    "training": "training",
    "indexing": "building the index",
    "exporting": "exporting the model",
}
"""What a person reads for the engine's stages (others are shown as they come)."""


def _voice(job: Job) -> str:
    return discord.utils.escape_markdown(str(job.params.get("voice_name", "?")))


def _bar(fraction: float) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * BAR_WIDTH)
    return "▰" * filled + "▱" * (BAR_WIDTH - filled)


def duration_text(seconds: float) -> str:
    """``1:05`` for a minute and five seconds, ``2 h 05 min`` past an hour."""
    minutes, rest = divmod(round(seconds), 60)
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes}:{rest:02d}"


def epochs_text(epochs: int) -> str:
    return f"{epochs} epoch{'' if epochs == 1 else 's'}"


def heading(job: Job) -> str:
    epochs = int(job.params.get("epochs", 0))
    return f"Training **{_voice(job)}**'s singing model ({epochs_text(epochs)})"


def notes(job: Job) -> list[str]:
    """What the member should know about their data (kept in the job's params)."""
    return [f"• {note}" for note in job.params.get("notes", [])]


def progress_text(job: Job, update: TrainingUpdate) -> str:
    lines = [heading(job)]
    if update.stage is None:
        position = update.position or 1
        ahead = "1 training is" if position == 1 else f"{position} trainings are"
        lines.append(f"⏳ Waiting: {ahead} ahead of it (position {position}).")
    elif update.stage == "training" and update.epochs:
        details = [f"epoch {update.epoch}/{update.epochs}"]
        if update.loss is not None:
            details.append(f"loss {update.loss:.3f}")
        if update.seconds_left is not None:
            details.append(f"about {duration_text(update.seconds_left)} left")
        lines.append(f"{_bar(update.fraction)} {update.fraction:.0%} · " + " · ".join(details))
    else:
        stage = STAGE_LABELS.get(update.stage, update.stage)
        lines.append(f"{_bar(update.fraction)} {update.fraction:.0%} · {stage}…")
    return "\n".join(lines + notes(job))


def done_text(job: Job, outcome: TrainingOutcome) -> str:
    return (
        f"{heading(job)}\n✅ Done: **{discord.utils.escape_markdown(outcome.voice.name)}** "
        f"now sings covers with its trained model ({epochs_text(outcome.epochs)}, "
        f"{duration_text(outcome.seconds_of_audio)} of audio). Try it with `/cover`."
    )


def owner_notice(job: Job, outcome: TrainingOutcome) -> str:
    """The direct message to the voice's owner when the model is ready."""
    return (
        f"Your voice **{discord.utils.escape_markdown(outcome.voice.name)}** finished "
        f"training: {epochs_text(outcome.epochs)} on {duration_text(outcome.seconds_of_audio)} of "
        f"audio ({outcome.model}). It now sings `/cover` songs with its trained model."
    )


def failed_text(job: Job, message: str) -> str:
    return f"{heading(job)}\n❌ {message}"


def cancelled_text(job: Job) -> str:
    return f"{heading(job)}\n🚫 Cancelled; the voice keeps the singing model it had."
