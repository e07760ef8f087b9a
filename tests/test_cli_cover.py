"""``parrot cover``, ``parrot voices singing-model``, the cover models in ``parrot models`` and
``parrot doctor``, through Typer's runner on random-weight checkpoints of the real models."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile
from typer.testing import CliRunner, Result

from bot.cli import common
from bot.cli import covers as covers_cli
from bot.cli.app import app
from bot.links import AddressGuard, SongLimits, SongLinks
from bot.store import Store
from bot.store.models import VoiceStatus
from tests.checkpoints.rvc import small_rvc_voice, write_index
from tests.engine.cover_fixtures import song_file_fixture  # noqa: F401
from tests.song_server import SongSite, serve_songs


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common.console, "_width", 250)
    monkeypatch.setattr(common.error_console, "_width", 250)


def base_env(data: Path, models: Path, **extra: str) -> dict[str, str]:
    return {
        "PARROT_DATA": str(data),
        "PARROT_MODELS_DIR": str(models),
        "PARROT_DEVICE": "cpu",
        "PARROT_TORCH_THREADS": "1",
        "PARROT_MIN_SAMPLE_SECONDS": "1",
        "PARROT_SINGING_DECODER_STEPS": "1",
        "HF_HUB_OFFLINE": "1",
        **extra,
    }


@contextlib.contextmanager
def clean_environment(work: Path) -> Iterator[None]:
    """What the autouse ``isolated_environment`` does, for module-scoped set-up."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("PARROT_") or name == "DISCORD_TOKEN":
                patch.delenv(name)
        work.mkdir(exist_ok=True)
        patch.chdir(work)
        yield


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("parrot: "), lines[0]
    assert "Traceback" not in result.output
    return lines[0]


def seconds_of(path: Path) -> float:
    return float(soundfile.info(path).duration)


async def _generations(data: Path) -> list[dict[str, Any]]:
    async with await Store.open(data / "parrot.db") as store:
        rows = await store.db.fetch_all(
            "SELECT kind, method, input_seconds, audio_seconds, output_path FROM generations"
            " ORDER BY id"
        )
    return [dict(row) for row in rows]


async def _add_voice(data: Path, name: str, status: VoiceStatus, model: Path | None) -> None:
    async with await Store.open(data / "parrot.db") as store:
        voice = await store.voices.create(name=name, owner_id=7, guild_id=42, status=status)
        if model is not None:
            relative = f"voices/{voice.id}/singing/voice.pth"
            (data / relative).parent.mkdir(parents=True)
            shutil.copyfile(model, data / relative)
            await store.voices.set_singing_model(voice.id, relative)


def add_voice(
    data: Path, name: str, status: VoiceStatus = VoiceStatus.READY, model: Path | None = None
) -> None:
    """A voice row without any model work (no conditionals, optionally an RVC model)."""
    asyncio.run(_add_voice(data, name, status, model))


# a real cover, zero-shot and RVC ------------------------------------------------------------
@pytest.fixture(scope="module")
def singer(
    cover_models_dir: Path,
    short_speech_clips: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[CliRunner, Path]:
    """A data dir with one voice enrolled through the CLI, and a runner pointed at it."""
    data = tmp_path_factory.mktemp("cli-cover") / "data"
    runner = CliRunner(env=base_env(data, cover_models_dir))
    with clean_environment(data.parent / "cwd"):
        enrolled = runner.invoke(
            app, ["voices", "enroll", "Singer", str(short_speech_clips["wav"]), "--consent"]
        )
    assert enrolled.exit_code == 0, enrolled.output
    return runner, data


@pytest.fixture(scope="module")
def song_site(song_file: Path) -> Iterator[SongSite]:
    with serve_songs(song_file) as site:
        yield site


def test_a_voice_without_a_singing_model_covers_zero_shot_a_song_by_link(
    singer: tuple[CliRunner, Path],
    song_site: SongSite,
    song_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The link is fetched by the real yt-dlp from a local site, which only this test opens
    (allowlist and address guard) by handing the command its own ``SongLinks``."""
    runner, data = singer
    opened = SongLinks(
        ("127.0.0.1",),
        SongLimits(max_seconds=60, max_bytes=10 * 2**20),
        timeout_s=30,
        guard=AddressGuard(exempt=[("127.0.0.1", song_site.port)]),
    )
    monkeypatch.setattr(covers_cli, "song_links", lambda settings: opened)
    output = tmp_path / "cover.opus"
    link = song_site.url(song_site.song_path)
    result = runner.invoke(app, ["cover", link, "--voice", "singer", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "Fetched 'song' (3 s, " in result.stdout and "from 127.0.0.1." in result.stdout
    assert f"to {output}" in result.stdout
    assert "zero-shot" in result.stdout and "real-time factor" in result.stdout
    assert seconds_of(output) == pytest.approx(seconds_of(song_file), abs=0.1)
    assert not output.with_suffix(".ogg").exists()
    recorded = asyncio.run(_generations(data))[-1]
    assert recorded["kind"] == "cover" and recorded["method"] == "zero-shot"
    assert recorded["input_seconds"] == pytest.approx(seconds_of(song_file), abs=0.05)
    assert recorded["audio_seconds"] == pytest.approx(seconds_of(song_file), abs=0.1)
    assert recorded["output_path"] is None


def test_an_attached_singing_model_makes_covers_use_rvc(
    singer: tuple[CliRunner, Path], song_file: Path, tmp_path: Path
) -> None:
    runner, data = singer
    model = small_rvc_voice("v2", 40_000)
    index = write_index(tmp_path / "voice.index", 768, count=64)
    attached = runner.invoke(app, ["voices", "singing-model", "Singer", str(model), str(index)])
    assert attached.exit_code == 0, attached.output
    assert "Attached RVC v2, 40 kHz, pitch-guided" in attached.stdout
    assert "with its index" in attached.stdout
    shown = runner.invoke(app, ["voices", "show", "Singer"]).stdout
    assert "singing/" in shown and ".index" in shown

    output = tmp_path / "cover.mp3"
    args = ["cover", str(song_file), "-v", "Singer", "-o", str(output), "--pitch", "-2"]
    result = runner.invoke(app, [*args, "--pitch-method", "pm", "--reverb", "0"])
    assert result.exit_code == 0, result.output
    assert ": rvc, MP3" in result.stdout
    assert seconds_of(output) == pytest.approx(seconds_of(song_file), abs=0.1)
    assert asyncio.run(_generations(data))[-1]["method"] == "rvc"

    removed = runner.invoke(app, ["voices", "singing-model", "Singer", "--remove"])
    assert removed.exit_code == 0 and "Detached" in removed.stdout
    assert not list((data / "voices").glob("*/singing/*"))
    refused = one_error_line(runner.invoke(app, [*args, "--method", "rvc"]))
    assert "no singing model" in refused


# failures: one line each, before any model work ---------------------------------------------
def test_the_cover_commands_have_help() -> None:
    runner = CliRunner()
    for command in (["cover"], ["voices", "singing-model"], ["models", "download"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, command
    assert "singing-model" in runner.invoke(app, ["voices", "--help"]).output
    assert "cover" in runner.invoke(app, ["--help"]).output


@pytest.fixture
def bare(tmp_path: Path) -> tuple[CliRunner, Path]:
    """A runner on an empty data dir and a models dir with no cover models at all."""
    data = tmp_path / "data"
    models = tmp_path / "models"
    models.mkdir()
    return CliRunner(env=base_env(data, models)), data


def cover(runner: CliRunner, song: Path | str, *options: str, env: dict[str, str] | None = None):
    return runner.invoke(app, ["cover", str(song), "-o", "out.mp3", *options], env=env)


def test_a_missing_song_or_a_wrong_suffix_is_one_line(
    bare: tuple[CliRunner, Path], song_file: Path
) -> None:
    runner, _ = bare
    assert "no such song file" in one_error_line(cover(runner, "missing.mp3", "-v", "x"))
    wav = runner.invoke(app, ["cover", str(song_file), "-v", "x", "-o", "out.wav"])
    assert ".wav" in one_error_line(wav)
    nowhere = runner.invoke(app, ["cover", str(song_file), "-v", "x", "-o", "no/such/out.mp3"])
    assert "there is no folder no/such" in one_error_line(nowhere)


def test_songs_over_the_limits_are_refused(bare: tuple[CliRunner, Path], song_file: Path) -> None:
    runner, _ = bare
    long = cover(runner, song_file, "-v", "x", env={"PARROT_MAX_SONG_SECONDS": "1"})
    assert "covers are limited to 0:01" in one_error_line(long)
    big = cover(runner, song_file, "-v", "x", env={"PARROT_MAX_SONG_UPLOAD_MB": "0.01"})
    assert "PARROT_MAX_SONG_UPLOAD_MB" in one_error_line(big)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--pitch", "13"], "--pitch must be a whole number between -12 and 12"),
        (["--reverb", "2"], "--reverb must be between 0 and 1"),
        (["--vocal-gain", "30"], "--vocal-gain must be between -24 and 12"),
        (["--index-rate", "1.5"], "--index-rate must be in [0, 1.0], got 1.5"),
        (["--protect", "0.9"], "--protect must be in [0, 0.5], got 0.9"),
        (["--pitch-method", "crepe"], "--pitch-method must be one of rmvpe, fcpe, pm"),
    ],
)
def test_bad_parameters_name_the_option(
    bare: tuple[CliRunner, Path], song_file: Path, options: list[str], expected: str
) -> None:
    runner, _ = bare
    assert expected in one_error_line(cover(runner, song_file, "-v", "x", *options))


def test_links_are_checked_against_the_allowlist_before_any_work(
    bare: tuple[CliRunner, Path],
) -> None:
    runner, data = bare
    line = one_error_line(cover(runner, "https://example.org/song.mp3", "-v", "x"))
    assert "example.org is not in PARROT_SONG_HOSTS (youtube.com, youtu.be," in line
    off = cover(runner, "https://youtu.be/x", "-v", "x", env={"PARROT_SONG_HOSTS": ""})
    assert "songs by link are turned off" in one_error_line(off)
    assert "not an http:// or https:// link" in one_error_line(
        cover(runner, "ftp://youtu.be/x", "-v", "x")
    )
    assert not data.exists()  # refused before the database was opened


def test_unknown_and_unready_voices_are_refused(
    bare: tuple[CliRunner, Path], song_file: Path
) -> None:
    runner, data = bare
    assert "no voice named" in one_error_line(cover(runner, song_file, "-v", "nobody"))
    add_voice(data, "Pending", VoiceStatus.PENDING)
    assert "is pending, not ready" in one_error_line(cover(runner, song_file, "-v", "Pending"))


def test_rvc_without_a_singing_model_is_refused(
    bare: tuple[CliRunner, Path], song_file: Path
) -> None:
    runner, data = bare
    add_voice(data, "Plain")
    line = one_error_line(cover(runner, song_file, "-v", "Plain", "--method", "rvc"))
    assert "'Plain' has no singing model" in line
    assert "parrot voices singing-model Plain MODEL.pth" in line


def test_missing_cover_models_fail_at_once_with_the_download_command(
    bare: tuple[CliRunner, Path], song_file: Path, tmp_path: Path
) -> None:
    runner, data = bare
    add_voice(data, "Plain")
    assert "parrot models download demucs" in one_error_line(
        cover(runner, song_file, "-v", "Plain")
    )
    from tests.checkpoints.demucs import demucs_repo

    with_demucs = tmp_path / "with-demucs"
    with_demucs.mkdir()
    (with_demucs / "demucs").symlink_to(demucs_repo(), target_is_directory=True)
    add_voice(data, "Rvc", model=small_rvc_voice("v2", 40_000))
    env = {"PARROT_MODELS_DIR": str(with_demucs)}
    line = one_error_line(cover(runner, song_file, "-v", "Rvc", env=env))
    assert "ContentVec" in line and "parrot models download rvc" in line


def test_singing_model_refuses_what_is_not_an_rvc_model(
    bare: tuple[CliRunner, Path], tmp_path: Path
) -> None:
    runner, data = bare
    add_voice(data, "Plain")
    not_a_model = tmp_path / "song.pth"
    not_a_model.write_bytes(b"ID3 this is an mp3, renamed")
    line = one_error_line(
        runner.invoke(app, ["voices", "singing-model", "Plain", str(not_a_model)])
    )
    assert "song.pth" in line
    missing = runner.invoke(app, ["voices", "singing-model", "Plain", "nothing.pth"])
    assert "no such file" in one_error_line(missing)
    both = runner.invoke(app, ["voices", "singing-model", "Plain", str(not_a_model), "--remove"])
    assert "not both" in one_error_line(both)
    assert not list(data.glob("voices/*/singing/*"))


# models and doctor -----------------------------------------------------------------------------
def test_models_list_shows_the_cover_models(
    tmp_path: Path, cover_models_dir: Path, bare: tuple[CliRunner, Path]
) -> None:
    present = CliRunner(env=base_env(tmp_path / "data", cover_models_dir))
    listed = present.invoke(app, ["models", "list"])
    assert listed.exit_code == 0, listed.output
    for row in ("demucs htdemucs", "rvc contentvec", "rvc rmvpe"):
        assert row in listed.stdout
    assert str(cover_models_dir / "demucs") in listed.stdout
    assert str(cover_models_dir / "contentvec") in listed.stdout
    absent = bare[0].invoke(app, ["models", "list"]).stdout
    rows = [line for line in absent.splitlines() if "demucs htdemucs" in line or "rvc " in line]
    assert len(rows) == 4 and all("not downloaded" in row for row in rows)


def test_cover_model_downloads_offline_name_what_to_copy_where(
    bare: tuple[CliRunner, Path], tmp_path: Path
) -> None:
    runner, _ = bare
    models = tmp_path / "models"
    demucs = one_error_line(runner.invoke(app, ["models", "download", "demucs"]))
    assert "HF_HUB_OFFLINE" in demucs and f"{models / 'demucs'}" in demucs
    assert "htdemucs.yaml" in demucs
    fine_tuned = runner.invoke(app, ["models", "download", "demucs", "--model", "htdemucs_ft"])
    assert "parrot models download demucs --model htdemucs_ft" in one_error_line(fine_tuned)
    rvc = one_error_line(runner.invoke(app, ["models", "download", "rvc"]))
    assert f"config.json and pytorch_model.bin into {models / 'contentvec'}" in rvc
    assert f"rmvpe.pt into {models / 'rmvpe'}" in rvc
    wrong = runner.invoke(app, ["models", "download", "turbo", "--model", "htdemucs_ft"])
    assert "--model only goes with" in one_error_line(wrong)


def test_models_lists_and_downloads_the_training_weights(
    bare: tuple[CliRunner, Path], tmp_path: Path
) -> None:
    runner, _ = bare
    models = tmp_path / "models"

    def row() -> str:
        listed = runner.invoke(app, ["models", "list"])
        (line,) = [line for line in listed.stdout.splitlines() if "rvc-pretrained" in line]
        return line

    assert "lj1995/VoiceConversionWebUI" in row() and "training" in row()
    assert "not downloaded" in row()
    offline = one_error_line(runner.invoke(app, ["models", "download", "rvc-pretrained"]))
    assert "pretrained_v2/f0G40k.pth and pretrained_v2/f0D40k.pth" in offline
    assert f"into {models / 'rvc-pretrained'}" in offline
    (models / "rvc-pretrained" / "pretrained_v2").mkdir(parents=True)
    for name in ("f0G40k.pth", "f0D40k.pth"):
        (models / "rvc-pretrained" / "pretrained_v2" / name).write_bytes(b"weights")
    assert str(models / "rvc-pretrained") in row()


def test_doctor_warns_about_missing_cover_models(
    bare: tuple[CliRunner, Path], tmp_path: Path, cover_models_dir: Path
) -> None:
    runner, _ = bare
    missing = runner.invoke(app, ["doctor"])
    assert "FAIL" not in missing.stdout, missing.stdout
    assert "parrot models download demucs" in missing.stdout
    assert "parrot models download rvc" in missing.stdout
    present = CliRunner(env=base_env(tmp_path / "other", cover_models_dir)).invoke(app, ["doctor"])
    lines = [line for line in present.stdout.splitlines() if "cover separation" in line]
    assert lines and "ok" in lines[0] and "Demucs htdemucs" in lines[0]
    assert "contentvec, rmvpe" in present.stdout
