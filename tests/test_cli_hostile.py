"""Every ``parrot`` command fed empty, absurd and hostile arguments: each ends with a
non-zero status and exactly one ``parrot: …`` line, never a traceback.

No model is loaded: validation comes first, and ``voices enroll`` runs the real decoding
and checks on a stand-in engine (no conditionals are built)."""

from __future__ import annotations

import asyncio
import shlex
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from typer.testing import CliRunner

import bot.cli.voices
from bot.cli import common
from bot.cli.app import app
from bot.store import Store
from bot.store.models import VoiceStatus
from engine.enrolment import SampleLimits, prepare_sample
from engine.tts.profile import PreparedSample, VoiceProfile

HUGE = str(2**70)
ESC, NL = "\x1b", "\n"

CASES: dict[str, list[str]] = {
    "say": [
        'say --voice V ""',
        "say --voice V '   '",
        "say --voice V ...",
        "say --voice V '🦜🦜'",
        "say --voice V hello -o out.xyz",
        "say --voice V hello -o no-such-folder/out.wav",
        "say --voice V hello -o .",
        "say --voice V hello -o clip.wav/out.wav",
        "say --voice V hello --temperature -1",
        "say --voice V hello --temperature nan",
        "say --voice V hello --exaggeration 1e309",
        "say --voice V hello --seed -5",
        f"say --voice V hello --seed {HUGE}",
        "say --voice V hello --decoder-steps -3",
        "say --voice V hello --max-tokens 0",
        "say --voice '' hello",
        "say --voice '$(rm -rf /)' hello",
        "say --voice V hello",  # a voice without conditionals
        "say hello",
    ],
    "voices": [
        "voices show ''",
        "voices show ../../etc",
        f"voices show '{ESC}[31mred'",
        "voices delete '' --yes",
        "voices export nobody",
        "voices export V -o clip.wav/v.zip",
        "voices export V -o .",
        "voices import ''",
        "voices import missing.zip",
        "voices import .",
        "voices import garbage.wav",
        "voices list --owner -1",
        f"voices list --owner {HUGE}",
        "voices list --guild abc",
        "voices import-references --folder no-such-folder",
        "voices enroll '' clip.wav --consent",
        "voices enroll bad/name clip.wav --consent",
        f"voices enroll {'x' * 500} clip.wav --consent",
        "voices enroll Name clip.wav",
        "voices enroll Name --consent",
        "voices enroll Name missing.wav --consent",
        "voices enroll Name . --consent",
        "voices enroll Name /dev/null --consent",
        "voices enroll Name garbage.wav --consent",
        "voices enroll Name ./-dash.wav --consent",
        "voices enroll Name 'odd name ✓.wav' --consent",
        f"voices enroll Name 'new{NL}line.wav' --consent",
        "voices enroll Name nan.wav --consent",
        "voices enroll Name liar.wav --consent",
        "voices enroll Name tone.wav --consent",
        "voices enroll Name clip.wav --consent --owner -1",
        f"voices enroll Name clip.wav --consent --guild {HUGE}",
        "voices enroll Name clip.wav --consent --visibility everyone",
        "voices singing-model V no-such.pth",
    ],
    "models": [
        "models download nonsense",
        "models download demucs --model nonsense",
        "models download original --model htdemucs",
        "models unload --wait -1",
        "models unload --wait nan",
        "models unload --wait 1e9",
    ],
    "admin": [
        "stats --since yesterday",
        "stats --since 2026-13-45",
        "stats --guild -1",
        "purge",
        "purge --member -1 --yes",
        "purge --member 1 --guild 2 --yes",
        "purge --expired --days 0 --yes",
        "purge --expired --days 99999999999 --yes",
        "audit --since 99999999w",
        "audit --since 2026-99-99",
        "audit --limit -5",
        f"audit --member {HUGE}",
        "audit --voice ''",
        "sync --guild -1",
        "sync",
        "run",
        "nonsense",
        "voices nonsense",
        "--data",
    ],
    "covers and rebuilds": [
        "cover no-such-song.mp3 --voice V",
        "cover '' --voice V",
        "cover clip.wav --voice nobody",
        "cover clip.wav --voice V --pitch 999",
        "cover clip.wav --voice V --method nonsense",
        "cover https://127.0.0.1/song.mp3 --voice V",
        "voices singing-model nobody model.pth",
        "voices rebuild nobody",
        "voices rebuild --all V",
    ],
}


class StandInEngine:
    """The real decoding and checks of a sample; no model for the conditionals."""

    async def prepare_sample(self, path: Path, dest: Path, limits: SampleLimits) -> PreparedSample:
        return await asyncio.to_thread(prepare_sample, path, dest, limits)

    async def build_profile(self, folder: Path, samples: list[Any]) -> VoiceProfile:
        raise AssertionError("no hostile sample should get this far")

    async def shutdown(self) -> None:
        pass


def _files(folder: Path) -> None:
    rate = 24_000
    time = np.arange(3 * rate) / rate
    speech = 0.3 * np.sin(2 * np.pi * 180 * time) * (np.sin(2 * np.pi * 3 * time) > 0)
    soundfile.write(folder / "clip.wav", speech, rate)
    soundfile.write(folder / "tone.wav", 0.3 * np.sin(2 * np.pi * 440 * time), rate)
    soundfile.write(folder / "nan.wav", np.full(rate, np.nan), rate, subtype="FLOAT")
    noise = (np.random.default_rng(0).standard_normal(rate) * 3000).astype("<i2").tobytes()
    header = struct.pack("<IHHIIHH", 16, 1, 1, rate, 2 * rate, 2, 16)
    (folder / "liar.wav").write_bytes(
        b"RIFF" + struct.pack("<I", 0xFFFFFFF0) + b"WAVEfmt " + header
        + b"data" + struct.pack("<I", 0xFFFFFF00) + noise
    )  # fmt: skip
    for name in ("garbage.wav", "-dash.wav", "odd name ✓.wav", "new\nline.wav"):
        (folder / name).write_bytes(b"\x00\xff not audio at all " * 64)


async def _voice(data: Path) -> None:
    async with await Store.open(data / "parrot.db") as store:
        await store.voices.create(name="V", owner_id=7, guild_id=42, status=VoiceStatus.READY)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A data dir with one voice ``V`` (ready, but no conditionals) and the files the
    cases name, in the folder the commands run from."""
    folder = tmp_path_factory.mktemp("hostile")
    _files(folder)
    asyncio.run(_voice(folder / "data"))
    yield folder, folder / "data"


@pytest.fixture
def cli(
    world: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[CliRunner, Path]]:
    folder, data = world
    monkeypatch.chdir(folder)
    monkeypatch.setattr(bot.cli.voices, "build_engine", lambda settings: StandInEngine())
    monkeypatch.setattr(common.error_console, "_width", 250)
    yield CliRunner(env={"PARROT_DATA": str(data), "PARROT_MIN_SAMPLE_SECONDS": "1"}), data


@pytest.mark.parametrize(
    "line",
    [line for lines in CASES.values() for line in lines],
)
def test_bad_input_is_one_line_never_a_traceback(cli: tuple[CliRunner, Path], line: str) -> None:
    runner, data = cli
    result = runner.invoke(app, shlex.split(line), input="n\n")
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{line}: {result.exception!r}"
    )
    assert result.exit_code != 0, result.output
    lines = [text for text in result.stderr.splitlines() if text.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("parrot: ") and "Traceback" not in result.output, lines[0]
    assert "\x1b" not in lines[0]  # a terminal escape in an argument is shown, not acted on
    assert sorted(path.name for path in (data / "voices").glob("*")) == []  # nothing enrolled
