"""What a cover's message says at each step (plain text, no Discord calls)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import discord

from bot.exts.covers.request import requested_style
from bot.exts.covers.runner import CoverUpdate
from bot.store.jobs import Job
from engine.api import COVER_STAGES

STAGE_LABELS = {stage.name: stage.label for stage in COVER_STAGES}
"""What a person reads for each of the engine's cover stages."""
STAGE_WEIGHTS = {stage.name: stage.weight for stage in COVER_STAGES}
"""Rough shares of a cover's time, to turn stage progress into one percentage."""
METHOD_NAMES = {"rvc": "RVC model", "zero-shot": "zero-shot singing"}
FORMAT_NAMES = {"ogg": "Opus", "mp3": "MP3"}
BAR_WIDTH = 12


def overall_fraction(stage: str, fraction: float) -> float:
    done = 0.0
    for name, weight in STAGE_WEIGHTS.items():
        if name == stage:
            return min(1.0, done + weight * max(0.0, min(1.0, fraction)))
        done += weight
    return done


def _bar(fraction: float) -> str:
    filled = round(fraction * BAR_WIDTH)
    return "▰" * filled + "▱" * (BAR_WIDTH - filled)


PITCH_METHOD_NAMES = {"rmvpe": "RMVPE", "fcpe": "FCPE", "pm": "Praat"}
STYLE_TEXTS: dict[str, Callable[[Any], str]] = {
    "pitch_method": lambda value: f"pitch by {PITCH_METHOD_NAMES.get(value, value)}",
    "index_rate": lambda value: f"index {value:.2f}",
    "protect": lambda value: f"protect {value:.2f}",
    "vocal_gain_db": lambda value: f"vocals {value:+g} dB",
    "instrumental_gain_db": lambda value: f"instrumental {value:+g} dB",
    "reverb": lambda value: f"reverb {value:.2f}",
}
"""How each style option a member changed reads in the cover's message."""


def _song(text: str) -> str:
    # Inside backticks markdown does not apply, but a backtick would end the span.
    return discord.utils.escape_markdown(text.replace("`", "'"))


def _style_text(params: dict[str, Any]) -> str:
    try:
        changed = requested_style(params).changed()
    except (TypeError, ValueError):
        return ""
    parts = [STYLE_TEXTS[name](value) for name, value in changed.items() if name in STYLE_TEXTS]
    return f" ({', '.join(parts)})" if parts else ""


def _what(job: Job) -> str:
    params = job.params
    song = _song(str(params.get("song_name", "the song")))
    voice = discord.utils.escape_markdown(str(params.get("voice_name", "?")))
    key = int(params.get("semitones", 0))
    key_text = f", key {key:+d}" if key else ""
    return f"Cover of `{song}` in **{voice}**{key_text}{_style_text(params)}"


def fetching_text(host: str) -> str:
    """While a song is fetched by link (before its job exists); ``host`` is a checked name."""
    return f"⏳ Fetching the song from {host}…"


def progress_text(job: Job, update: CoverUpdate) -> str:
    if update.stage is None:
        position = update.position or 1
        ahead = "1 cover is" if position == 1 else f"{position} covers are"
        return f"{_what(job)}\n⏳ Waiting: {ahead} ahead of it (position {position})."
    overall = overall_fraction(update.stage, update.fraction)
    stage = STAGE_LABELS.get(update.stage, update.stage)
    return f"{_what(job)}\n{_bar(overall)} {overall:.0%} · {stage}…"


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def singer_text(job: Job, method: str) -> str:
    """Which model sang: the voice's trained model when the job says so
    (``trained_epochs``, see :func:`bot.training.data.trained_singer`), else the method."""
    epochs = job.params.get("trained_epochs")
    if method == "rvc" and isinstance(epochs, int):
        voice = discord.utils.escape_markdown(str(job.params.get("voice_name", "?")))
        return f"Sung by {voice}'s trained model ({epochs} epoch{'' if epochs == 1 else 's'})"
    return f"Sung with {METHOD_NAMES.get(method, method)}"


def finished_text(job: Job, result: Any) -> str:
    details = [singer_text(job, result.method)]
    if result.octaves:
        details.append(f"melody moved {result.octaves:+d} octave(s) to suit the voice")
    details.append(_duration(result.duration_s))
    details.append(
        f"{FORMAT_NAMES.get(str(result.format), result.format)} {result.bitrate_kbps} kb/s"
    )
    details.append(f"made in {_duration(result.timings.get('total', 0.0))}")
    lines = [f"{_what(job)} is ready for <@{job.user_id}>.", " · ".join(details)]
    lines += [f"• {note}" for note in result.notes[:3]]
    return "\n".join(lines)


def done_text(job: Job) -> str:
    return f"{_what(job)}\n✅ Done: the file is posted below."


def failed_text(job: Job, message: str) -> str:
    return f"{_what(job)}\n❌ {message}"


def cancelled_text(job: Job) -> str:
    return f"{_what(job)}\n🚫 Cancelled."
