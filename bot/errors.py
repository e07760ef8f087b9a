"""How failures reach members: the one place that turns any failure into an ephemeral reply.

What a failure says comes from the error taxonomy (:class:`engine.api.ParrotError`); this
module adds Discord's own failures (permissions, cooldowns, checks) and the incident id
for bugs."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable

import discord
from discord import app_commands

from engine.api import ParrotError

log = logging.getLogger(__name__)


class UserFacingError(ParrotError):
    """A bot-side failure whose message is already the sentence the member reads."""

    def for_member(self) -> str:
        return str(self)


def _permission_names(permissions: list[str]) -> str:
    return ", ".join(
        name.replace("_", " ").replace("guild", "server").title() for name in permissions
    )


def describe_failure(error: BaseException) -> str | None:
    """The sentence for a failure people can act on, or None for a bug.

    Every such failure, the engine's and the bot's, is a :class:`ParrotError` that carries
    its own wording; there is no list of error classes to keep in step here.
    """
    return error.for_member() if isinstance(error, ParrotError) else None


def job_failure_text(what: str, job_id: str, error: BaseException) -> str:
    """What a failed job's requester reads: the error's own words, or for a bug an incident id
    (the traceback goes to the log under it)."""
    message = describe_failure(error)
    if message is None:
        incident = secrets.token_hex(3)
        log.error("%s %s failed (incident %s)", what, job_id, incident, exc_info=error)
        message = (
            f"The {what} failed on my side (incident `{incident}`); "
            "the bot owner can find the details in the logs."
        )
    return message


async def report_quietly(call: Awaitable[object], what: str) -> None:
    """Telling people about a job must never decide its fate: log and go on."""
    try:
        await call
    except asyncio.CancelledError:
        raise
    except Exception:
        log.warning("could not report on a %s job", what, exc_info=True)


OUTDATED_COMMAND = (
    "This command is outdated: Discord still shows a version of it that this Parrot no longer "
    "has. The bot owner should run `parrot sync` (then reload Discord) to update the commands."
)


def describe_app_command_error(error: app_commands.AppCommandError) -> str | None:
    """A sentence for an expected failure, or None for a bug that needs logging."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    described = describe_failure(original)
    if described is not None:
        return described
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return OUTDATED_COMMAND
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
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            log.warning("an outdated command was used (%s): run `parrot sync`", error)
        if interaction.type is discord.InteractionType.autocomplete:
            await _no_choices(interaction)  # typing into an option: there is nowhere to write
            return
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


async def _no_choices(interaction: discord.Interaction) -> None:
    if interaction.response.is_done():
        return
    try:
        await interaction.response.autocomplete([])
    except discord.HTTPException:
        log.debug("could not answer autocomplete %s", interaction.id)


async def send_ephemeral(interaction: discord.Interaction, message: str) -> None:
    """Reply privately whether or not the interaction was already answered or deferred."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message for interaction %s", interaction.id)
