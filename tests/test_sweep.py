"""The start-up sweep against an enrolment running in another process (as ``parrot voices
enroll`` does while a bot starts): the folder of a live enrolment stays, a dead one goes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import Store
from bot.voices.files import VoiceLibrary
from bot.voices.locks import LOCK_SUFFIX

ENROLMENT = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from bot.store import Store
    from bot.store.audit import Who
    from bot.store.models import Consent, ConsentPath, Visibility, VoiceSource
    from bot.voices.enrolment import VoiceEnroller
    from bot.voices.files import VoiceLibrary
    from engine.audio.checks import QualityReport
    from engine.enrolment import SampleLimits
    from engine.tts.profile import PreparedSample, VoiceProfile

    data, signals = Path(sys.argv[1]), Path(sys.argv[2])

    class SlowEngine:
        # Writes where the real engine would; "analysing the voice" waits for a go-ahead.
        async def prepare_sample(self, path, dest, limits):
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(path.read_bytes())
            quality = QualityReport(4.0, 3.5, -1.0, -20.0, 0.0, 30.0, "good")
            return PreparedSample(dest, 4.0, 24000, "ab" * 32, quality)

        async def build_profile(self, folder, samples):
            (signals / "analysing").write_text(folder.name)
            while not (signals / "go").exists():
                await asyncio.sleep(0.02)
            conditionals = folder / "conds-stand-in.pt"
            conditionals.write_bytes(b"conditionals")
            return VoiceProfile(folder, "stand-in", conditionals, folder / "reference.wav", 4.0)

    async def main():
        async with await Store.open(data / "parrot.db") as store:
            enroller = VoiceEnroller(
                store, VoiceLibrary(store, data), SlowEngine(), SampleLimits()
            )
            voice, _ = await enroller.enroll(
                "Cli Voice", [signals / "clip.wav"], owner_id=None, guild_id=None,
                visibility=Visibility.GLOBAL, source=VoiceSource.CLI,
                consent=Consent.now(ConsentPath.CLI), who=Who.cli(),
            )
            (signals / "enrolled").write_text(voice.id)

    asyncio.run(main())
    """
)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "data" / "parrot.db")
    try:
        yield opened
    finally:
        await opened.close()


async def wait_for_file(path: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 60
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "died")
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        await asyncio.sleep(0.02)
    return path.read_text()


def start_enrolment(tmp_path: Path, name: str) -> tuple[subprocess.Popen[bytes], Path]:
    signals = tmp_path / name
    signals.mkdir()
    (signals / "clip.wav").write_bytes(b"RIFF a clip")
    process = subprocess.Popen(
        [sys.executable, "-c", ENROLMENT, str(tmp_path / "data"), str(signals)],
        cwd=Path(__file__).resolve().parents[1],
        stderr=subprocess.PIPE,
    )
    return process, signals


async def test_the_sweep_leaves_a_live_enrolment_alone_and_removes_a_dead_one(
    store: Store, tmp_path: Path
) -> None:
    library = VoiceLibrary(store, tmp_path / "data")
    live, live_signals = start_enrolment(tmp_path, "live")
    dead, dead_signals = start_enrolment(tmp_path, "dead")  # both start at once: one import
    try:
        live_id = await wait_for_file(live_signals / "analysing", live)
        dead_id = await wait_for_file(dead_signals / "analysing", dead)
        os.kill(dead.pid, signal.SIGKILL)  # no clean-up runs: its folder and lock file stay
        dead.wait(30)
        live_folder, dead_folder = library.folder(live_id), library.folder(dead_id)
        assert (library.voices_dir / f"{dead_id}{LOCK_SUFFIX}").exists()
        assert await store.voices.get(live_id) is None  # files first, rows later

        report = await library.sweep()  # a bot starting up meanwhile
        assert report.in_progress == [live_folder]
        assert report.orphan_folders == [dead_folder]  # the kernel dropped the dead lock
        assert live_folder.is_dir() and len(list((live_folder / "samples").iterdir())) == 1
        assert not dead_folder.exists()
        assert not (library.voices_dir / f"{dead_id}{LOCK_SUFFIX}").exists()

        (live_signals / "go").write_text("")
        assert await wait_for_file(live_signals / "enrolled", live) == live_id
        assert live.wait(30) == 0
    finally:
        live.kill()
        dead.kill()
    voice = await store.voices.get(live_id)
    assert voice is not None and voice.conditionals == f"voices/{live_id}/conds-stand-in.pt"
    assert (live_folder / "conds-stand-in.pt").is_file()
    assert sorted(path.name for path in library.voices_dir.iterdir()) == [live_id]  # no lock
    again = await library.sweep()
    assert again.orphan_folders == [] and again.in_progress == [] and live_folder.is_dir()
