"""``/voice train`` through the real client and the fake Discord, with a stand-in for the
engine's ``train`` (the real training is the point of ``test_training_e2e``): refusals,
a job run to the end (model attached, audit, direct message), cancel, the limits, a
restart resuming from the checkpoint, and the training data's place in the data rights."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import soundfile

from bot.client import ParrotBot
from bot.exts.covers.messages import singer_text
from bot.privacy import PrivacyService
from bot.settings import Settings
from bot.store import Store
from bot.store.audit import AuditAction, Who
from bot.store.jobs import Job
from bot.store.models import JobState
from bot.store.training import TrainingRepository
from bot.training.data import trained_singer, training_audio_dir
from bot.voices.removal import delete_voice
from engine.api import (
    CpuTrainingNotAllowedError,
    PretrainedWeightsMissingError,
)
from tests.bot.conftest import reply_text, sub
from tests.bot.training_support import (  # the stand_in fixture by its name
    StandInTraining,
    stand_in_fixture,  # noqa: F401
    train,
    voice_with_clip,
)
from tests.conftest import TEST_TOKEN, started_bot
from tests.fakediscord import FakeDiscord, FakeGuild

EPHEMERAL = 64
WAIT_S = 60


@pytest.fixture
def training_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        discord_token=TEST_TOKEN,
        device="cpu",
        min_sample_seconds=1.0,
        min_training_seconds=3.0,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def trainer_bot(
    fake_discord: FakeDiscord, guild: FakeGuild, training_settings: Settings
) -> AsyncIterator[ParrotBot]:
    async with started_bot(training_settings) as parrot:
        yield parrot


async def refusal(fake: FakeDiscord, log: Any) -> str:
    await fake.wait_for(lambda: log.answered and (log.callbacks[0]["type"] == 4 or log.followups))
    flags = (log.followups or [log.callbacks[0]["data"]])[-1]["flags"]
    assert flags & EPHEMERAL
    return reply_text(log)


def cancel_id(log: Any) -> str:
    return str(log.edits[-1]["components"][0]["components"][0]["custom_id"])


async def test_refusals_name_what_to_do(
    trainer_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    speech_clips: dict[str, Path],
    short_speech_clips: dict[str, Path],
    stand_in: StandInTraining,
) -> None:
    owner = people["owner"]
    voice = await voice_with_clip(trainer_bot, "Olive", owner, guild, speech_clips["wav"])
    short = await voice_with_clip(trainer_bot, "Brief", owner, guild, short_speech_clips["wav"])

    async def refused(member: dict[str, Any], name: str, **options: Any) -> str:
        return await refusal(
            fake_discord, await train(fake_discord, guild, member, name, **options)
        )

    assert "Only the owner of **Olive** can change it" in await refused(people["other"], "Olive")
    assert "Set `consent` to True" in await refused(owner, "Olive", consent=False)
    assert "at most 500 epochs" in await refused(owner, "Olive", epochs=600)
    text = await refused(owner, "Brief")
    assert "Training needs at least 3 s of clean speech; this voice has " in text
    assert "so add about 1 s more" in text
    text = await refused(owner, "Olive", recordings=[speech_clips["wav"]])
    assert "The recording 'speech.wav' repeats audio this voice already has" in text
    assert await TrainingRepository(trainer_bot.store.db).recordings(voice.id) == []
    [sample] = await trainer_bot.store.voices.samples(voice.id)
    kept = training_audio_dir(trainer_bot.library, voice.id).glob("*.wav")
    assert [path.stem for path in kept] == [sample.id]  # its copy only: nothing of the refusal
    assert not list((trainer_bot.settings.data_dir / "tmp" / "uploads").iterdir())

    stand_in.refusal = CpuTrainingNotAllowedError()
    log = await train(fake_discord, guild, owner, "Olive")
    assert "has no GPU for training" in await refusal(fake_discord, log)
    assert log.deleted  # the public "thinking…" went first
    stand_in.refusal = PretrainedWeightsMissingError("f0G40k.pth")
    assert "Training is not set up on this bot yet" in await refused(owner, "Olive")
    assert await trainer_bot.store.jobs.recent("training") == []
    assert short.id != voice.id


async def test_a_training_runs_to_the_end_and_the_voice_sings_with_it(
    trainer_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    speech_clips: dict[str, Path],
    stand_in: StandInTraining,
    tmp_path: Path,
) -> None:
    owner = people["owner"]
    voice = await voice_with_clip(
        trainer_bot, "Olive", owner, guild, speech_clips["wav"], training_copy=False
    )
    stand_in.allowed = 2  # held after two epochs until the progress shows them
    log = await train(
        fake_discord, guild, owner, "Olive", recordings=[speech_clips["mp3"]], epochs=3
    )
    await fake_discord.wait_for(lambda: "epoch 2/3 · loss 2.500" in reply_text(log), timeout=WAIT_S)
    stand_in.allowed = 10**6
    await fake_discord.wait_for(lambda: "✅ Done" in reply_text(log), timeout=WAIT_S)

    assert log.callbacks[0]["type"] == 5  # deferred publicly
    texts = reply_text(log)
    assert "Training **Olive**'s singing model (3 epochs)" in texts
    assert "train at 24 kHz" in texts  # the sample enrolled without a training copy
    assert "or more sounds better" in texts
    assert "now sings covers with its trained model (3 epochs" in log.edits[-1]["content"]
    assert log.edits[-1]["components"] == []
    await fake_discord.wait_for(lambda: bool(fake_discord.direct_messages(owner)))
    [notice] = fake_discord.direct_messages(owner)
    assert "Your voice **Olive** finished training: 3 epochs" in notice

    [job] = await trainer_bot.store.jobs.recent("training")
    assert job.state is JobState.DONE and job.output_path is None
    [sources] = stand_in.sources
    [recording] = await TrainingRepository(trainer_bot.store.db).recordings(voice.id)
    [sample] = await trainer_bot.store.voices.samples(voice.id)
    assert sources == [
        trainer_bot.library.path(sample.path),
        trainer_bot.library.path(recording.path),
    ]
    assert recording.sample_rate == soundfile.info(str(speech_clips["wav"])).samplerate
    assert recording.original_name == "speech.mp3" and recording.consent is not None
    trained = await trainer_bot.store.voices.get(voice.id)
    assert trained is not None and trained.rvc_model and trained.rvc_index
    assert await trained_singer(trainer_bot.store, trained) == {"trained_epochs": 3}
    cover_job = _job(params={"voice_name": "Olive", "trained_epochs": 3})
    assert singer_text(cover_job, "rvc") == "Sung by Olive's trained model (3 epochs)"
    actions = [entry.action for entry in await trainer_bot.store.audit.entries()]
    assert AuditAction.TRAIN in actions and AuditAction.ATTACH_SINGING_MODEL in actions
    assert not (trainer_bot.library.folder(voice.id) / "training" / "work" / job.id).exists()

    # /privacy export lists the training data and includes the model; deletion removes it
    export = await PrivacyService(trainer_bot.store, trainer_bot.settings.data_dir).export_member(
        int(owner["id"]), tmp_path / "export.zip"
    )
    with zipfile.ZipFile(io.BytesIO(export.path.read_bytes())) as archive:
        manifest = json.loads(archive.read("parrot-data.json"))
        names = archive.namelist()
    assert [r["original_name"] for r in manifest["training"]["recordings"]] == ["speech.mp3"]
    assert manifest["training"]["trained_models"][0]["epochs"] == 3
    assert [m["file"] for m in manifest["model_files"]] == [
        n for n in names if n.endswith((".pth", ".index"))
    ]
    assert export.models_included == 2
    log = await fake_discord.slash(guild, owner, "privacy", sub("delete"))
    await fake_discord.wait_for(lambda: log.answered)
    await fake_discord.click(guild, owner, log.sent[0], _first_button(log.sent[0]))
    await fake_discord.wait_for(lambda: "Deleted 1 voice(s)" in reply_text(log))
    assert not trainer_bot.library.folder(voice.id).exists()
    assert await TrainingRepository(trainer_bot.store.db).recordings(voice.id) == []
    assert await TrainingRepository(trainer_bot.store.db).trained_model(voice.id) is None


async def test_one_training_per_member_and_the_owner_cancels_it(
    trainer_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    speech_clips: dict[str, Path],
    stand_in: StandInTraining,
) -> None:
    owner, other = people["owner"], people["other"]
    voice = await voice_with_clip(trainer_bot, "Olive", owner, guild, speech_clips["wav"])
    await voice_with_clip(trainer_bot, "Oscar", other, guild, speech_clips["mp3"])
    stand_in.allowed = 0
    log = await train(fake_discord, guild, owner, "Olive", epochs=5)
    await fake_discord.wait_for(lambda: "Cancel" in json.dumps(log.edits), timeout=WAIT_S)

    again = await train(fake_discord, guild, owner, "Olive")
    assert "already have a training on the way" in await refusal(fake_discord, again)
    theirs = await train(fake_discord, guild, other, "Oscar")
    assert "1 training(s) are already queued or running" in await refusal(fake_discord, theirs)

    message = log.sent[0]
    intruder = await fake_discord.click(guild, other, message, cancel_id(log))
    await fake_discord.wait_for(lambda: intruder.answered)
    assert "Only the owner of this voice can cancel" in reply_text(intruder)
    click = await fake_discord.click(guild, owner, message, cancel_id(log))
    await fake_discord.wait_for(lambda: "🚫 Cancelled" in reply_text(log), timeout=WAIT_S)
    assert click.callbacks[0]["type"] == 6
    [job] = await trainer_bot.store.jobs.recent("training")
    assert job.state is JobState.CANCELLED
    current = await trainer_bot.store.voices.get(voice.id)
    assert current is not None and current.rvc_model is None
    assert not (trainer_bot.library.folder(voice.id) / "training" / "work" / job.id).exists()

    # deleting the voice (any way) stops its training first, and says why
    log = await train(fake_discord, guild, owner, "Olive", epochs=5)
    await until(lambda: len(stand_in.started_at) == 2)
    await delete_voice(trainer_bot.store, trainer_bot.library, current, Who.cli())
    await fake_discord.wait_for(lambda: "Its voice was deleted" in reply_text(log))
    assert not trainer_bot.library.folder(voice.id).exists()
    states = sorted(j.state for j in await trainer_bot.store.jobs.recent("training"))
    assert states == [JobState.CANCELLED, JobState.CANCELLED]


async def test_a_restart_resumes_from_the_checkpoint_or_fails_with_a_message(
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    training_settings: Settings,
    speech_clips: dict[str, Path],
    stand_in: StandInTraining,
) -> None:
    owner = people["owner"]
    channel_id = int(guild.text_channel["id"])
    stand_in.allowed = 0
    settings = training_settings.model_copy(update={"max_training_jobs": 2})
    async with started_bot(settings) as parrot:
        voice = await voice_with_clip(parrot, "Olive", owner, guild, speech_clips["wav"])
        gone = await voice_with_clip(parrot, "Gone", people["other"], guild, speech_clips["mp3"])
        progress = fake_discord.rest._store_message(channel_id, {"content": "…"}, [])
        orphan = await parrot.store.jobs.create(
            kind="training",
            user_id=int(people["other"]["id"]),
            guild_id=guild.id,
            channel_id=channel_id,
            voice_id=gone.id,
            params={"voice_name": "Gone", "epochs": 2},
            input_path=None,
        )
        await parrot.store.jobs.set_message(orphan.id, int(progress["id"]))
        await parrot.store.voices.delete(gone.id)
        log = await train(fake_discord, guild, owner, "Olive", epochs=3)
        await until(lambda: bool(stand_in.started_at))
        stand_in.allowed = 1
        await until(lambda: stand_in.done_epochs == 1)
    [job] = [j for j in await _jobs(settings) if j.voice_id == voice.id]
    assert job.state is JobState.RUNNING  # shut down mid-training: left for the next start
    # The fake keeps interaction responses apart from channel messages: give the job one
    # that the restarted bot (no webhook any more) can edit with its own token.
    message = fake_discord.rest._store_message(channel_id, {"content": "…"}, [])
    async with await Store.open(settings.database_path) as store:
        await store.jobs.set_message(job.id, int(message["id"]))

    stand_in.allowed = 10**6
    async with started_bot(settings) as parrot:
        await fake_discord.wait_for(
            lambda: any("✅ Done" in m["content"] for m in _channel(fake_discord, channel_id)),
            timeout=WAIT_S,
        )
        finished = await parrot.store.jobs.get(job.id)
        failed = await parrot.store.jobs.get(orphan.id)
    assert finished is not None and finished.state is JobState.DONE
    assert failed is not None and failed.state is JobState.FAILED
    assert stand_in.started_at == [0, 1]  # resumed after the epoch the checkpoint recorded
    assert "Training **Olive**'s singing model (3 epochs)" in reply_text(log)
    assert message["content"].startswith("Training **Olive**'s singing model (3 epochs)")
    contents = [m["content"] for m in _channel(fake_discord, channel_id)]
    assert any("deleted or retired while Parrot restarted" in text for text in contents)


def _job(params: dict[str, Any]) -> Job:
    return Job(
        "0" * 16, "cover", JobState.DONE, None, 1.0, 1, 1, 1, 1, None, params, None, None,
        None, "", "",
    )  # fmt: skip


async def until(predicate: Callable[[], bool], timeout: float = WAIT_S) -> None:
    """Wait for what no request to the fake Discord announces."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


def _first_button(message: dict[str, Any]) -> str:
    return str(message["components"][0]["components"][0]["custom_id"])


def _channel(fake: FakeDiscord, channel_id: int) -> list[dict[str, Any]]:
    return list(fake.channel_messages.get(channel_id, []))


async def _jobs(settings: Settings) -> list[Job]:
    async with await Store.open(settings.database_path) as store:
        return await store.jobs.recent("training")
