"""From enrolled samples to a cover sung by the voice's own trained model, without leaving
Discord: ``/voice train`` runs the real engine (random ContentVec and RMVPE, tiny random
"pretrained" RVC weights, one epoch on the CPU), then ``/cover`` sings with the result."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.client import ParrotBot
from bot.settings import Settings
from bot.store.training import TrainingRepository
from engine.api import RvcModelInfo
from tests.bot.conftest import reply_text
from tests.bot.cover_support import cover
from tests.bot.training_support import (  # the models fixture by its name
    train,
    training_models_dir_fixture,  # noqa: F401
    voice_with_clip,
)
from tests.conftest import TEST_TOKEN, started_bot
from tests.engine.cover_fixtures import song_file_fixture  # noqa: F401
from tests.fakediscord import FakeDiscord, FakeGuild

TRAINING_WAIT_S = 400
COVER_WAIT_S = 240


@pytest.fixture
async def training_bot(
    fake_discord: FakeDiscord, guild: FakeGuild, tmp_path: Path, training_models_dir: Path
) -> AsyncIterator[ParrotBot]:
    settings = Settings(
        data_dir=tmp_path / "data",
        discord_token=TEST_TOKEN,
        device="cpu",
        models_dir=training_models_dir,
        torch_threads=1,
        min_sample_seconds=1.0,
        singing_decoder_steps=1,
        max_song_seconds=20,
        allow_cpu_training=True,
        min_training_seconds=2.0,
        training_batch_size=2,
        _env_file=None,  # type: ignore[call-arg]
    )
    async with started_bot(settings) as parrot:
        yield parrot


async def test_a_trained_voice_sings_the_next_cover(
    training_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    speech_clips: dict[str, Path],
    song_file: Path,
) -> None:
    owner = people["owner"]
    voice = await voice_with_clip(training_bot, "Olive", owner, guild, speech_clips["wav"])

    log = await train(fake_discord, guild, owner, "Olive", epochs=1)
    await fake_discord.wait_for(
        lambda: "✅ Done" in reply_text(log) or "❌" in reply_text(log), timeout=TRAINING_WAIT_S
    )
    assert "✅ Done" in log.edits[-1]["content"], reply_text(log)
    assert "now sings covers with its trained model (1 epoch," in log.edits[-1]["content"]
    await fake_discord.wait_for(lambda: bool(fake_discord.direct_messages(owner)))
    assert "finished training" in fake_discord.direct_messages(owner)[0]

    trained = await training_bot.store.voices.get(voice.id)
    assert trained is not None and trained.rvc_model is not None
    info = await training_bot.engine.describe_singing_model(
        training_bot.library.path(trained.rvc_model)
    )
    assert isinstance(info, RvcModelInfo) and info.sample_rate == 40_000 and info.has_f0
    model = await TrainingRepository(training_bot.store.db).trained_model(voice.id)
    assert model is not None and model.epochs == 1 and model.rvc_model == trained.rvc_model

    sung = await cover(fake_discord, guild, owner, song_file, "Olive")
    await fake_discord.wait_for(lambda: bool(sung.files), timeout=COVER_WAIT_S)
    text = sung.followups[-1]["content"]
    assert "Sung by Olive's trained model (1 epoch)" in text
