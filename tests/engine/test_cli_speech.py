"""``parrot voices enroll``, ``parrot say`` and ``parrot models`` on the random checkpoint."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import soundfile
from typer.testing import CliRunner

from bot.cli import common
from bot.cli.app import app
from bot.runtime import UNLOAD_REQUEST
from engine.watermark import WATERMARK_THRESHOLD
from tests.engine.watermark import file_confidence


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common.console, "_width", 250)
    monkeypatch.setattr(common.error_console, "_width", 250)


@pytest.fixture
def runner(tmp_path: Path, chatterbox_models_dir: Path) -> CliRunner:
    return CliRunner(
        env={
            "PARROT_DATA": str(tmp_path / "data"),
            "PARROT_MODELS_DIR": str(chatterbox_models_dir),
            "PARROT_DEVICE": "cpu",
            "PARROT_TORCH_THREADS": "1",
            "PARROT_MIN_SAMPLE_SECONDS": "1",
        }
    )


def test_enroll_then_say_writes_speech(
    runner: CliRunner, short_speech_clips: dict[str, Path], tmp_path: Path
) -> None:
    enrolled = runner.invoke(
        app,
        [
            "voices",
            "enroll",
            "--consent",
            "Narrator",
            str(short_speech_clips["mp3"]),
            str(short_speech_clips["ogg"]),
        ],
    )
    assert enrolled.exit_code == 0, enrolled.output
    assert "Enrolled 'Narrator'" in enrolled.output
    assert "2 sample(s)" in enrolled.output

    listed = runner.invoke(app, ["voices", "list"])
    assert "Narrator" in listed.output and "ready" in listed.output

    output = tmp_path / "out.wav"
    said = runner.invoke(
        app,
        [
            "say",
            "--voice",
            "narrator",
            "Hello. Goodbye.",
            "-o",
            str(output),
            "--seed",
            "1",
            "--max-tokens",
            "6",
            "--decoder-steps",
            "2",
        ],
    )
    assert said.exit_code == 0, said.output
    assert "Wrote" in said.output
    audio, rate = soundfile.read(output)
    assert rate == 24_000 and audio.ndim == 1 and len(audio) > 0
    assert file_confidence(output) >= WATERMARK_THRESHOLD

    status = runner.invoke(app, ["db", "status"])
    assert "generations: 1" in status.output


def test_enrolling_bad_audio_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, [0.0] * 48_000, 24_000)
    result = runner.invoke(app, ["voices", "enroll", "--consent", "Quiet", str(silent)])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("parrot: ")
    assert "silent" in result.stderr.lower()
    assert runner.invoke(app, ["voices", "list"]).output.strip() == "No voices yet."


def test_say_refuses_an_unknown_voice_and_a_bad_format(runner: CliRunner) -> None:
    unknown = runner.invoke(app, ["say", "--voice", "nobody", "Hi.", "-o", "x.wav"])
    assert unknown.exit_code == 1 and "no voice named" in unknown.stderr
    wrong = runner.invoke(app, ["say", "--voice", "nobody", "Hi.", "-o", "x.flac"])
    assert wrong.exit_code == 1 and ".flac" in wrong.stderr


def test_models_list_shows_the_local_checkpoint(
    runner: CliRunner, chatterbox_models_dir: Path
) -> None:
    result = runner.invoke(app, ["models", "list"])
    assert result.exit_code == 0, result.output
    assert str(chatterbox_models_dir / "chatterbox") in result.output
    assert "not downloaded" in result.output  # turbo and multilingual


def test_models_download_offline_fails_fast_and_clearly(tmp_path: Path) -> None:
    runner = CliRunner(
        env={
            "PARROT_DATA": str(tmp_path / "data"),
            "HF_HUB_OFFLINE": "1",
            "PARROT_MODELS_DIR": str(tmp_path / "models"),
        }
    )
    started = time.perf_counter()
    result = runner.invoke(app, ["models", "download", "turbo"])
    assert time.perf_counter() - started < 5
    assert result.exit_code == 1
    assert "could not download ResembleAI/chatterbox-turbo" in result.stderr
    assert "PARROT_MODELS_DIR/chatterbox-turbo" in result.stderr


def test_models_unload_without_a_running_bot_says_so(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["models", "unload", "--wait", "0.3"])
    assert result.exit_code == 1
    assert "no running bot answered" in result.stderr
    assert not (tmp_path / "data" / UNLOAD_REQUEST).exists()
