"""``/voice singing-model`` and ``/voice forget-singing-model``: a voice's RVC model."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

import discord
from discord import app_commands

from bot.attachments import check_file_attachment, download_attachment
from bot.autocomplete import changeable_voices
from bot.errors import UserFacingError, describe_failure
from bot.exts.covers.singing_models import attach_singing_model, detach_singing_model
from bot.exts.voices.base import VOICE_GROUP, VoiceCommands
from bot.store.audit import Who
from bot.voice_lookup import VOICE_HELP, actor_of, changeable_voice


class SingingCommands(VoiceCommands):
    @VOICE_GROUP.command(name="singing-model", description="Give one of your voices an RVC model")
    @app_commands.describe(
        voice=VOICE_HELP,
        model="The voice's RVC model (.pth, v1 or v2, 32/40/48 kHz)",
        index="Its feature index (.index), optional: makes the voice closer",
    )
    @app_commands.autocomplete(voice=changeable_voices)
    async def singing_model(
        self,
        interaction: discord.Interaction,
        voice: str,
        model: discord.Attachment,
        index: discord.Attachment | None = None,
    ) -> None:
        target = await changeable_voice(self.bot.store, voice, actor_of(interaction))
        limit = int(self.bot.settings.max_model_upload_mb * 1024 * 1024)
        check_file_attachment(model, suffix=".pth", what="an RVC model", max_bytes=limit)
        if index is not None:
            check_file_attachment(index, suffix=".index", what="an RVC index", max_bytes=limit)
        await interaction.response.defer(ephemeral=True, thinking=True)
        uploads = [(model, ".pth")] + ([(index, ".index")] if index is not None else [])
        paths = []
        try:
            for attachment, suffix in uploads:
                paths.append(
                    await download_attachment(
                        attachment, self.uploads, max_bytes=limit, suffix=suffix
                    )
                )
            info = await attach_singing_model(
                self.bot.store,
                self.bot.library,
                self.bot.engine,
                target,
                paths[0],
                paths[1] if len(paths) > 1 else None,
                who=Who.member(interaction.user.id),
                guild_id=interaction.guild_id,
            )
        except Exception as error:
            shown = _with_shown_names(error, zip(paths, [a for a, _ in uploads], strict=False))
            if shown is error:
                raise
            raise shown from error
        finally:
            for path in paths:
                await asyncio.to_thread(path.unlink, True)
        extra = " and its index" if index is not None else ""
        await interaction.followup.send(
            f"**{target.name}** now sings covers with its RVC model{extra} ({info}). "
            "Try it with `/cover`.",
            ephemeral=True,
        )

    @VOICE_GROUP.command(name="forget-singing-model", description="Remove a voice's RVC model")
    @app_commands.describe(voice=VOICE_HELP)
    @app_commands.autocomplete(voice=changeable_voices)
    async def forget_singing_model(self, interaction: discord.Interaction, voice: str) -> None:
        target = await changeable_voice(self.bot.store, voice, actor_of(interaction))
        removed = await detach_singing_model(
            self.bot.store,
            self.bot.library,
            target,
            who=Who.member(interaction.user.id),
            guild_id=interaction.guild_id,
        )
        if not removed:
            raise UserFacingError(f"**{target.name}** has no singing model.")
        await interaction.response.send_message(
            f"Removed the singing model of **{target.name}**; it sings zero-shot again.",
            ephemeral=True,
        )


def _with_shown_names(
    error: Exception, saved: Iterable[tuple[Path, discord.Attachment]]
) -> Exception:
    """A described failure worded with the member's file names instead of ours."""
    message = describe_failure(error)
    if message is None:
        return error
    for path, attachment in saved:
        shown = discord.utils.escape_markdown(attachment.filename)[:80]
        message = message.replace(path.name, shown)
    return UserFacingError(message)
