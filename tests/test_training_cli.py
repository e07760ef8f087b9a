"""``parrot voices train`` refusals and ``parrot voices training-status``, through Typer's
test runner against a temporary data dir (the engine's own refusals are real: no GPU here,
no pretrained weights)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import common
from bot.cli.app import app
from bot.store import Store
from bot.store.jobs import Job
from bot.store.models import JobState, Voice, VoiceStatus
from tests.bot.training_support import StandInTraining, stand_in_fixture  # noqa: F401


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common.console, "_width", 250)
    monkeypatch.setattr(common.error_console, "_width", 250)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cli(data_dir: Path) -> Callable[..., Result]:
    runner = CliRunner(env={"PARROT_DATA": str(data_dir), "PARROT_DEVICE": "cpu"})

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


def error_line(result: Result) -> str:
    assert result.exit_code != 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("parrot: "), result.stderr
    return lines[0]


async def _seed(data_dir: Path) -> Voice:
    async with await Store.open(data_dir / "parrot.db") as store:
        voice = await store.voices.create(
            name="Olive", owner_id=7, guild_id=42, status=VoiceStatus.READY
        )
        job = await store.jobs.create(
            kind="training",
            user_id=7,
            guild_id=42,
            channel_id=43,
            voice_id=voice.id,
            params={"voice_name": "Olive", "epochs": 5},
            input_path=None,
        )
        await store.jobs.advance(
            job.id, "training", 0.4, {"epoch": 2, "epochs": 5, "loss": 2.345, "seconds_left": 600}
        )
        done = await store.jobs.create(
            kind="training",
            user_id=None,
            guild_id=None,
            channel_id=None,
            voice_id=voice.id,
            params={"voice_name": "Olive", "epochs": 1},
            input_path=None,
        )
        await store.jobs.finish(done.id, JobState.FAILED, error="no luck")
        return voice


def test_training_is_refused_with_what_to_do(
    cli: Callable[..., Result], data_dir: Path, tmp_path: Path
) -> None:
    asyncio.run(_seed(data_dir))
    clip = tmp_path / "clip.wav"
    clip.write_bytes(b"RIFF")
    assert "--extra needs --consent" in error_line(
        cli("voices", "train", "Olive", "--extra", str(clip))
    )
    assert "does not exist" in error_line(
        cli("voices", "train", "Olive", "--consent", "--extra", str(tmp_path / "gone.wav"))
    )
    assert "at most 500 epochs" in error_line(cli("voices", "train", "Olive", "--epochs", "501"))
    assert "no voice named or with id 'Nobody'" in error_line(cli("voices", "train", "Nobody"))
    assert "set PARROT_ALLOW_CPU_TRAINING=1 (or pass --allow-cpu)" in error_line(
        cli("voices", "train", "Olive")
    )
    line = error_line(cli("voices", "train", "Olive", "--allow-cpu"))
    assert "run `parrot models download rvc-pretrained`" in line


def test_training_status_lists_jobs_unfinished_first(
    cli: Callable[..., Result], data_dir: Path
) -> None:
    assert "No training jobs yet." in cli("voices", "training-status").output
    asyncio.run(_seed(data_dir))
    result = cli("voices", "training-status")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "Olive" in line]
    assert len(rows) == 2
    assert "Discord" in rows[0] and "running" in rows[0] and "2/5" in rows[0]
    assert "2.345" in rows[0] and "10 min" in rows[0] and "40%" in rows[0]
    assert "CLI" in rows[1] and "failed: no luck" in rows[1]
    assert "training: 0 extra recording(s) (0.0 s)" in cli("voices", "show", "Olive").output


async def _voice_with_speech(data_dir: Path, clip: Path) -> Voice:
    async with await Store.open(data_dir / "parrot.db") as store:
        voice = await store.voices.create(
            name="Olive", owner_id=7, guild_id=42, status=VoiceStatus.READY
        )
        sample = data_dir / "voices" / voice.id / "samples" / "s1.wav"
        sample.parent.mkdir(parents=True)
        shutil.copy(clip, sample)
        await store.voices.add_sample(
            voice_id=voice.id,
            path=f"voices/{voice.id}/samples/s1.wav",
            original_name=clip.name,
            sha256="0" * 64,
            duration_s=6.0,
            sample_rate=22_050,
            sample_id="s1",
        )
        return voice


async def _state(data_dir: Path, voice_id: str) -> tuple[list[Job], Voice | None]:
    async with await Store.open(data_dir / "parrot.db") as store:
        return await store.jobs.recent("training"), await store.voices.get(voice_id)


def test_a_training_runs_from_the_cli_with_extra_recordings(
    cli: Callable[..., Result],
    data_dir: Path,
    speech_clips: dict[str, Path],
    stand_in: StandInTraining,
) -> None:
    voice = asyncio.run(_voice_with_speech(data_dir, speech_clips["wav"]))
    line = error_line(cli("voices", "train", "Olive"))
    assert "training needs at least 60 s of clean speech; this voice has " in line
    extra = ["--consent", "--extra", str(speech_clips["mp3"])]
    enough = {"PARROT_MIN_TRAINING_SECONDS": "3"}
    result = cli("voices", "train", "Olive", "--epochs", "2", *extra, env=enough)
    assert result.exit_code == 0, result.output + result.stderr
    assert "Trained 'Olive': 2 epochs" in result.output
    assert "(RVC v2, 40 kHz, pitch-guided" in result.output
    [job], trained = asyncio.run(_state(data_dir, voice.id))
    assert job.state is JobState.DONE and job.channel_id is None and job.user_id is None
    assert trained is not None and trained.rvc_model is not None
    assert len(stand_in.sources[0]) == 2  # the sample and the extra recording
