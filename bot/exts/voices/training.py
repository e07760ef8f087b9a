"""``/voice train``: the owner turns a voice's recordings into its own singing model.

Every refusal that needs no engine comes before the deferral (ephemeral). After it, the
engine's cheap check (pretrained weights, the device) runs first, then extra recordings
are checked and kept, then the amount of speech decides. A refusal there withdraws the
public "thinking…" message so that only the member reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import discord
from discord import app_commands

from bot.attachments import check_audio_attachment
from bot.autocomplete import changeable_voices
from bot.checks import guild_member, require_speaker_role
from bot.errors import UserFacingError
from bot.exts.training.messages import duration_text, progress_text
from bot.exts.training.reporter import DiscordTrainingReporter
from bot.exts.training.views import cancel_view, runner_of
from bot.exts.voices.base import CONSENT_HELP, VOICE_GROUP, VoiceCommands, require_consent
from bot.runtime import sample_limits
from bot.settings import Settings
from bot.store.models import Consent, ConsentPath, Voice, VoiceStatus
from bot.training.data import TrainingSources, measured_speech, training_sources
from bot.training.recordings import TrainingRecorder, Upload
from bot.training.runner import KIND, TrainingRunner, TrainingUpdate
from bot.voice_lookup import VOICE_HELP, actor_of, changeable_voice

RECORDING_HELP = "A recording of this voice for training only (checked like enrolment samples)"


def training_notes(sources: TrainingSources, speech_s: float, settings: Settings) -> list[str]:
    """What the member should know about the data the model learns from."""
    notes = []
    if speech_s < settings.recommended_training_seconds:
        notes.append(
            f"Only {duration_text(speech_s)} of speech: training works, but "
            f"{duration_text(settings.recommended_training_seconds)} or more sounds better "
            "(add recordings with `/voice train` or `/voice add-sample`)."
        )
    if sources.low_rate_samples:
        notes.append(
            f"{sources.low_rate_samples} sample(s) were enrolled before Parrot kept training "
            "copies, so they train at 24 kHz and sound less crisp; recordings added now keep "
            "their quality."
        )
    return notes


class TrainingCommands(VoiceCommands):
    _training_requests: set[int]
    """Members whose ``/voice train`` is being checked (no job row yet)."""

    @VOICE_GROUP.command(name="train", description="Train a singing model from a voice's clips")
    @app_commands.describe(
        voice=VOICE_HELP,
        consent=CONSENT_HELP,
        recording1=RECORDING_HELP,
        recording2=RECORDING_HELP,
        recording3=RECORDING_HELP,
        epochs="How long to train (more is closer but slower; default set by the bot owner)",
    )
    @app_commands.autocomplete(voice=changeable_voices)
    async def train(
        self,
        interaction: discord.Interaction,
        voice: str,
        consent: bool,
        recording1: discord.Attachment | None = None,
        recording2: discord.Attachment | None = None,
        recording3: discord.Attachment | None = None,
        epochs: app_commands.Range[int, 1, 2000] | None = None,
    ) -> None:
        member = guild_member(interaction)
        await require_speaker_role(self.bot, member, interaction.permissions)
        require_consent(consent)
        target = await changeable_voice(self.bot.store, voice, actor_of(interaction))
        if target.status is not VoiceStatus.READY:
            raise UserFacingError(f"**{target.name}** is not ready yet; train it once it is.")
        settings = self.bot.settings
        chosen_epochs = epochs or settings.default_training_epochs
        if chosen_epochs > settings.max_training_epochs:
            raise UserFacingError(
                f"This bot trains for at most {settings.max_training_epochs} epochs."
            )
        runner = runner_of(interaction)
        await self._check_room(member.id, runner)
        _check_channel(interaction)
        recordings = [a for a in (recording1, recording2, recording3) if a is not None]
        for attachment in recordings:
            check_audio_attachment(attachment, max_bytes=settings.max_upload_bytes)

        self._training_requests.add(member.id)
        try:
            await interaction.response.defer(thinking=True)
            try:
                sources, speech_s = await self._prepare(target, runner, recordings, chosen_epochs)
            except Exception:
                with contextlib.suppress(discord.HTTPException):
                    await interaction.delete_original_response()
                raise
            job = await self.bot.store.jobs.create(
                kind=KIND,
                user_id=member.id,
                guild_id=member.guild.id,
                channel_id=interaction.channel_id,
                voice_id=target.id,
                params={
                    "voice_name": target.name,
                    "epochs": chosen_epochs,
                    "batch_size": settings.training_batch_size,
                    "speech_seconds": round(speech_s, 1),
                    "notes": training_notes(sources, speech_s, settings),
                },
                input_path=None,
            )
        finally:
            self._training_requests.discard(member.id)
        waiting = TrainingUpdate(runner.queue.waiting + 1, None, epochs=chosen_epochs)
        message = await interaction.edit_original_response(
            content=progress_text(job, waiting), view=cancel_view(job.id)
        )
        await self.bot.store.jobs.set_message(job.id, message.id)
        job = await self.bot.store.jobs.get(job.id) or job
        runner.submit(job, DiscordTrainingReporter(self.bot, job, interaction))

    async def _check_room(self, member_id: int, runner: TrainingRunner) -> None:
        store = self.bot.store
        if member_id in self._training_requests or await store.jobs.active_for_user(
            member_id, KIND
        ):
            raise UserFacingError(
                "You already have a training on the way; wait for it or cancel it first."
            )
        limit = self.bot.settings.max_training_jobs
        if await store.jobs.count_unfinished(KIND) >= limit:
            raise UserFacingError(
                f"{limit} training(s) are already queued or running on this bot, the most it "
                "takes; try again when one has finished."
            )

    async def _prepare(
        self,
        voice: Voice,
        runner: TrainingRunner,
        recordings: list[discord.Attachment],
        epochs: int,
    ) -> tuple[TrainingSources, float]:
        """After the deferral: the engine can train, the recordings are kept, and there is
        enough speech (how much is returned too)."""
        probe = runner.params_for(epochs)
        await self.bot.engine.check_training_available(probe)
        if recordings:
            await self._keep_recordings(voice, recordings)
        sources = await training_sources(self.bot.store, self.bot.library, voice)
        return sources, await measured_speech(sources, self.bot.settings.min_training_seconds)

    async def _keep_recordings(self, voice: Voice, recordings: list[discord.Attachment]) -> None:
        paths: list[Path] = []
        try:
            for attachment in recordings:
                paths.append(await self._download(attachment))
            uploads = [
                Upload(path, attachment.filename)
                for path, attachment in zip(paths, recordings, strict=True)
            ]
            recorder = TrainingRecorder(
                self.bot.store, self.bot.library, self.bot.engine, sample_limits(self.bot.settings)
            )
            await recorder.add(voice, uploads, consent=Consent.now(ConsentPath.DISCORD))
        finally:
            for path in paths:
                await asyncio.to_thread(path.unlink, True)


def _check_channel(interaction: discord.Interaction) -> None:
    """The training's message is edited with the bot's own token after 15 minutes."""
    allowed = interaction.app_permissions
    if not (allowed.view_channel and allowed.send_messages):
        raise UserFacingError(
            "I need the View Channel and Send Messages permissions in this channel to show "
            "a training's progress; ask a server manager to grant them."
        )
