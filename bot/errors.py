"""Failures people see, and the one place that turns any failure into an ephemeral reply."""

from __future__ import annotations

import logging
import re
import secrets
import sys

import discord
from discord import app_commands

log = logging.getLogger(__name__)


class UserFacingError(Exception):
    """An error whose message is written for the member who caused it."""


def _permission_names(permissions: list[str]) -> str:
    return ", ".join(
        name.replace("_", " ").replace("guild", "server").title() for name in permissions
    )


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "`")) else text + "."


def describe_failure(error: BaseException) -> str | None:
    """A sentence for a failure people can act on (ours or the engine's), else None."""
    from bot.library import VoiceNameError
    from bot.store.voices import VoiceNameTakenError
    from bot.voice.player import NotInVoiceError, QueueFullError
    from engine.audio.errors import AudioRejectedError
    from engine.executor import EngineBusyError, JobCancelledError
    from engine.tts.errors import ModelNotDownloadedError, VoiceNotEnrolledError
    from engine.tts.params import InvalidSpeechParamsError

    if isinstance(error, UserFacingError):
        return str(error)
    if isinstance(error, AudioRejectedError):
        return _sentence(f"That audio can't be used: {error.message}")
    if isinstance(error, EngineBusyError):
        return "The voice engine is busy right now; please try again in a minute."
    if isinstance(error, ModelNotDownloadedError):
        command = re.search(r"`(parrot models download[^`]*)`", str(error))
        return (
            "The model this needs is not downloaded on this bot yet; ask the bot owner to run "
            f"`{command.group(1) if command else 'parrot models download'}`."
        )
    if isinstance(error, VoiceNotEnrolledError):
        return "That voice is not ready for the current model; enrol it again."
    if isinstance(error, JobCancelledError):
        return "That was cancelled."
    cover_failure = _describe_cover_failure(error)
    if cover_failure is not None:
        return cover_failure
    if isinstance(
        error,
        InvalidSpeechParamsError
        | VoiceNameError
        | VoiceNameTakenError
        | QueueFullError
        | NotInVoiceError,
    ):
        return _sentence(str(error))
    return None


_COVER_FAILURES = {
    ("engine.separate.errors", "SongTooLongError"): "{}",
    ("engine.cover.encode", "OutputTooLargeError"): "The cover would not fit: {}",
    ("engine.cover.params", "InvalidCoverParamsError"): "{}",
    ("engine.convert.params", "InvalidConversionParamsError"): "{}",
    ("engine.covers", "NoSingingModelError"): "{}",
    ("engine.convert.errors", "RvcCheckpointError"): "That singing model can't be used: {}",
    ("engine.convert.errors", "RvcIndexError"): "That index can't be used: {}",
}


def _describe_cover_failure(error: BaseException) -> str | None:
    """Cover errors; a module not imported yet cannot have raised, so none is imported."""
    for (module_name, class_name), template in _COVER_FAILURES.items():
        module = sys.modules.get(module_name)
        if module is not None and isinstance(error, getattr(module, class_name)):
            return _sentence(template.format(error))
    return None


def describe_app_command_error(error: app_commands.AppCommandError) -> str | None:
    """A sentence for an expected failure, or None for a bug that needs logging."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    described = describe_failure(original)
    if described is not None:
        return described
    if isinstance(error, app_commands.MissingPermissions):
        return f"You need the {_permission_names(error.missing_permissions)} permission for this."
    if isinstance(error, app_commands.BotMissingPermissions):
        return (
            f"I am missing the {_permission_names(error.missing_permissions)} permission here; "
            "ask a server manager to grant it."
        )
    if isinstance(error, app_commands.MissingAnyRole | app_commands.MissingRole):
        return "You don't have the role this command needs."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.TransformerError):
        return f"{error.value!r} is not a valid value here."
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You can't use this command here."
    return None


class ParrotCommandTree(app_commands.CommandTree):
    """A command tree whose every failure ends as one ephemeral message."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        message = describe_app_command_error(error)
        if message is None:
            incident = secrets.token_hex(3)
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("command /%s failed (incident %s)", command, incident, exc_info=error)
            message = (
                f"Something went wrong on my side (incident `{incident}`). "
                "The bot owner can find the details in the logs."
            )
        await send_ephemeral(interaction, message)


async def send_ephemeral(interaction: discord.Interaction, message: str) -> None:
    """Reply privately whether or not the interaction was already answered or deferred."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message for interaction %s", interaction.id)
