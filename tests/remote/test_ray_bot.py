"""``PARROT_ENGINE=ray`` end to end: the real bot on the fake Discord, its engine on Ray Serve
replicas of a local 2-CPU cluster running the random checkpoints. Enrolment, a streamed
/say, a cover posted back; a replica killed mid-utterance ends that utterance with a message
and the next one plays; a replica killed mid-cover costs a retry, not the cover; a replica
killed mid-training costs the epochs since its last checkpoint, not the training.

One cluster for the module; the tests run in order and share its replica.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

pytest.importorskip("ray", reason="the ray extra is not installed")

from bot.cli.app import app
from bot.client import ParrotBot
from bot.health import Level, check_ray
from bot.settings import Settings
from bot.store.models import Voice
from engine.api import (
    EngineConfig,
    EngineKind,
    RvcVersion,
    TrainingParams,
    TrainingProgress,
    WorkerLostError,
    describe_workers,
)
from engine.training.checkpoints import checkpoint_path, checkpoint_set
from tests.bot.cover_support import COVER_WAIT_S, cover, enrol
from tests.bot.speech_support import in_voice, say
from tests.conftest import TEST_TOKEN, started_bot
from tests.fakediscord import FakeDiscord, FakeGuild
from tests.remote.cluster import kill_replica, local_cluster
from tests.remote.hooks import TEST_PIECE_BYTES

LONG_TEXT = " ".join(f"Sentence {n} goes on." for n in range(8))
LOST_SENTENCE = WorkerLostError("x").for_member()


@pytest.fixture(scope="module")
def ray_cluster(
    training_models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[set[str]]:
    """The cluster, and the names of the replicas the tests killed."""
    config = EngineConfig(
        data_dir=tmp_path_factory.mktemp("unused"),  # each replica has its own
        device="cpu",
        models_dir=training_models_dir,  # what covers need, and tiny pretrained RVC weights
        torch_threads=1,
    )
    with local_cluster(config):
        yield set()


@pytest.fixture
def ray_settings(tmp_path: Path, training_models_dir: Path, ray_cluster: set[str]) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        discord_token=TEST_TOKEN,
        device="cpu",
        engine=EngineKind.RAY,
        ray_address="local",
        models_dir=training_models_dir,
        torch_threads=1,
        min_sample_seconds=1.0,
        speech_decoder_steps=2,
        speech_max_tokens=8,
        say_cooldown_seconds=0,
        singing_decoder_steps=1,
        max_song_seconds=20,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def ray_bot(
    fake_discord: FakeDiscord, guild: FakeGuild, ray_settings: Settings
) -> AsyncIterator[ParrotBot]:
    async with started_bot(ray_settings) as parrot:
        yield parrot


def test_workers_and_doctor_report_the_replicas(ray_cluster: set[str], tmp_path: Path) -> None:
    for _ in range(300):  # the replica posts its first report as it starts
        if asyncio.run(describe_workers("auto")).replicas:
            break
        time.sleep(0.1)
    env = {"PARROT_DATA": str(tmp_path / "data"), "PARROT_ENGINE": "ray"}
    runner = CliRunner(env={**env, "PARROT_RAY_ADDRESS": "auto"})
    result = runner.invoke(app, ["workers"])
    assert result.exit_code == 0, result.output
    assert "Parrot application RUNNING (1 running)" in " ".join(result.stdout.split())
    listed = json.loads(runner.invoke(app, ["workers", "--json"]).stdout)
    (replica,) = listed["replicas"]
    assert replica["replica"] in result.stdout  # its row in the table
    assert replica["gpus"] == [] and replica["ongoing"] == 0

    settings = Settings(
        data_dir=tmp_path / "data",
        engine=EngineKind.RAY,
        ray_address="auto",
        _env_file=None,  # type: ignore[call-arg]
    )
    check = asyncio.run(check_ray(settings))
    assert check.level is Level.OK, check
    assert "1 reporting" in check.detail


async def speaking(
    parrot: ParrotBot, fake: FakeDiscord, guild: FakeGuild, people: dict[str, Any], clip: Path
) -> Voice:
    voice = await enrol(parrot, people["owner"], guild, clip)
    await in_voice(parrot, fake, guild, people["owner"])
    return voice


async def test_enrolment_and_say_through_ray_and_a_replica_lost_mid_utterance(
    ray_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    short_speech_clips: dict[str, Path],
    ray_cluster: set[str],
) -> None:
    assert type(ray_bot.engine).__name__ == "RayEngine"
    voice = await speaking(ray_bot, fake_discord, guild, people, short_speech_clips["wav"])
    profile = ray_bot.engine.profile(ray_bot.library.folder(voice.id))
    assert profile.exists  # the replica's conditionals, written on the bot's side

    session = fake_discord.voice_session(guild)
    log = await say(fake_discord, guild, people["owner"], "Hello there. Bye.", voice=voice.id)
    assert "Saying it now" in "\n".join(log.texts())
    await session.wait_for_packets(5, timeout=120)
    await session.wait_for_silence(timeout=120)
    reports = await ray_bot.engine.replica_reports()  # type: ignore[attr-defined]  # Ray only
    assert any(report["voices"] for report in reports)  # the replica holds the voice now

    # A replica dies while it speaks: that utterance ends with a sentence, nothing hangs.
    heard = len(session.voiced_packets)
    long = await say(fake_discord, guild, people["owner"], LONG_TEXT, voice=voice.id)
    assert "Saying it now" in "\n".join(long.texts()), long.texts()
    await session.wait_for_packets(heard + 5, timeout=120)
    await kill_replica(ray_bot.engine, ray_cluster)
    await fake_discord.wait_for(lambda: LOST_SENTENCE in "\n".join(long.texts()), timeout=60)

    # The player goes on with the next utterance, on the replica Serve started instead.
    heard = len(session.voiced_packets)
    after = await say(fake_discord, guild, people["owner"], "Still here.", voice=voice.id)
    await session.wait_for_packets(heard + 5, timeout=180)
    assert LOST_SENTENCE not in "\n".join(after.texts())


async def test_a_cover_survives_its_replica_dying_once(
    ray_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    short_speech_clips: dict[str, Path],
    song_file: Path,
    ray_cluster: set[str],
) -> None:
    voice = await enrol(ray_bot, people["owner"], guild, short_speech_clips["wav"])
    started = asyncio.Event()
    original = ray_bot.engine.cover

    async def cover_with_a_crash(*args: Any, **kwargs: Any) -> Any:
        progress = kwargs["progress"]

        def on_progress(stage: str, fraction: float) -> None:
            started.set()
            progress(stage, fraction)

        return await original(*args, **{**kwargs, "progress": on_progress})

    ray_bot.engine.cover = cover_with_a_crash  # type: ignore[method-assign]  # a spy
    log = await cover(fake_discord, guild, people["other"], song_file, voice.name)
    await asyncio.wait_for(started.wait(), COVER_WAIT_S)
    await kill_replica(ray_bot.engine, ray_cluster)
    await fake_discord.wait_for(lambda: bool(log.files), timeout=COVER_WAIT_S)

    name, data = log.files[-1]
    assert name.endswith(".ogg") and len(data) > 1000
    assert "✅ Done" in log.edits[-1]["content"]
    assert await ray_bot.store.jobs.unfinished() == []


async def test_a_training_resumes_from_its_checkpoint_when_its_replica_dies(
    ray_bot: ParrotBot, speech_clips: dict[str, Path], tmp_path: Path, ray_cluster: set[str]
) -> None:
    reports: list[TrainingProgress] = []
    work = tmp_path / "work"
    checkpoint_kept = asyncio.Event()

    def watch(progress: TrainingProgress) -> None:
        reports.append(progress)
        if checkpoint_set(work / "checkpoints") is not None:
            checkpoint_kept.set()  # the replica sent its first checkpoint back

    params = TrainingParams(
        epochs=12, batch_size=2, save_every_epochs=1, allow_cpu=True, min_speech_seconds=2.0
    )  # an epoch takes about a second here: time to kill it mid-way
    training = asyncio.create_task(
        ray_bot.engine.train(
            [speech_clips["wav"]], work, tmp_path / "out", params, name="trained", progress=watch
        )
    )
    await asyncio.wait_for(checkpoint_kept.wait(), 300)
    before = len(reports)
    assert not training.done()
    await kill_replica(ray_bot.engine, ray_cluster)
    trained = await asyncio.wait_for(training, 600)

    assert trained.model == tmp_path / "out" / "trained.pth" and trained.index.is_file()
    assert trained.epochs == 12 and trained.seconds_of_audio > 2.0
    info = await ray_bot.engine.describe_singing_model(trained.model, trained.index)
    assert (info.version, info.sample_rate, info.has_f0) == (RvcVersion.V2, 40_000, True)
    after = [report for report in reports[before:] if report.stage == "training"]
    assert after and min(report.epoch for report in after) >= 1  # not from scratch
    # The checkpoint went back and forth in pieces (the test clusters' piece is small).
    assert checkpoint_path(work / "checkpoints").stat().st_size > 2 * TEST_PIECE_BYTES
