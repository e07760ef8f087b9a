"""Voices rebuilt for a switched TTS model, with an engine stand-in (no model): what is
queued, conditionals kept per model, a restart that continues, failures that are marked
and not retried, what members are told meanwhile, and ``parrot voices rebuild``."""

from __future__ import annotations

import asyncio
import io
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, cast

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from bot.cli import common
from bot.cli import rebuild as rebuild_cli
from bot.cli.app import app
from bot.store import Store
from bot.store.audit import ActorKind, AuditAction, Who
from bot.store.models import Consent, ConsentPath, Visibility, Voice, VoiceSource, VoiceStatus
from bot.store.rebuilds import RebuildState
from bot.voices.enrolment import VoiceEnroller
from bot.voices.files import VoiceLibrary
from bot.voices.rebuild import (
    VoiceBeingPreparedError,
    VoiceNotPreparedError,
    VoiceRebuilder,
    preparation_notes,
    ready_profile,
)
from engine.api import (
    Engine,
    JobCancelledError,
    ModelNotDownloadedError,
    SampleLimits,
    VoiceNotEnrolledError,
)
from engine.tts.profile import PreparedSample, VoiceProfile
from tests.enrolment_support import QUALITY


class StandInEngine:
    """Files conditionals under a model label that a test switches, as the real engine
    files them under its backend's name; can run a hook or fail during a build."""

    def __init__(self, label: str = "model-a") -> None:
        self.label = label
        self.built: list[str] = []
        self.during_build: Callable[[Path], Any] | None = None
        self.fail_after: int | None = None
        self.model_missing = False

    @property
    def backend_name(self) -> str:
        return self.label

    def profile(self, folder: Path) -> VoiceProfile:
        return VoiceProfile.at(folder, self.label)

    async def prepare_sample(self, path: Path, dest: Path, limits: SampleLimits) -> PreparedSample:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(path.read_bytes())
        return PreparedSample(dest, 4.0, 24000, "ab" * 32, QUALITY)

    async def build_profile(self, folder: Path, samples: list[Any]) -> VoiceProfile:
        if self.fail_after is not None and len(self.built) >= self.fail_after:
            raise JobCancelledError  # the bot closing in the middle of the run
        self.built.append(folder.name)
        if self.during_build is not None:
            hook, self.during_build = self.during_build, None
            await hook(folder)
        profile = self.profile(folder)
        profile.conditionals.write_text(f"{self.label} from {len(samples)} sample(s)")
        return VoiceProfile(folder, self.label, profile.conditionals, folder / "r.wav", 4.0)

    async def check_model_available(self) -> None:
        if self.model_missing:
            raise ModelNotDownloadedError(
                "the TTS weights are not downloaded: run `parrot models download original`"
            )

    async def shutdown(self) -> None:
        pass


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def store(data_dir: Path) -> AsyncIterator[Store]:
    async with await Store.open(data_dir / "parrot.db") as opened:
        yield opened


@pytest.fixture
def library(store: Store, data_dir: Path) -> VoiceLibrary:
    return VoiceLibrary(store, data_dir)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.wav"
    with wave.open(str(path), "wb") as out:  # read back (and measured) by the rebuild
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(24000)
        out.writeframes(bytes(i % 251 for i in range(9600)))
    return path


async def enroll(
    store: Store, library: VoiceLibrary, engine: StandInEngine, clip: Path, name: str
) -> Voice:
    enroller = VoiceEnroller(store, library, cast(Engine, engine), SampleLimits())
    voice, _ = await enroller.enroll(
        name,
        [clip],
        owner_id=1,
        guild_id=2,
        visibility=Visibility.PRIVATE,
        source=VoiceSource.UPLOAD,
        consent=Consent.now(ConsentPath.DISCORD),
        who=Who.member(1),
    )
    return voice


def rebuilder(store: Store, library: VoiceLibrary, engine: StandInEngine) -> VoiceRebuilder:
    return VoiceRebuilder(store, library, cast(Engine, engine), Who.system())


async def test_a_switch_rebuilds_every_voice_and_a_switch_back_needs_nothing(
    store: Store, library: VoiceLibrary, clip: Path
) -> None:
    engine = StandInEngine("model-a")
    alice = await enroll(store, library, engine, clip, "Alice")
    bob = await enroll(store, library, engine, clip, "Bob")
    await store.voices.create(name="Empty", owner_id=1, guild_id=2, status=VoiceStatus.READY)
    retired = await enroll(store, library, engine, clip, "Old")
    await store.voices.set_status(retired.id, VoiceStatus.RETIRED)
    old_conds = {v.id: (library.folder(v.id) / "conds-model-a.pt").read_text() for v in [alice]}

    engine.label = "model-b"
    work = rebuilder(store, library, engine)
    waiting = await work.queue_missing()
    assert sorted(waiting) == sorted([alice.id, bob.id])  # not the empty or the retired one
    assert str(await store.voices.rebuilds.progress("model-b")) == "0 of 2"
    report = await work.run(waiting)
    assert [o.state for o in report.outcomes] == [RebuildState.DONE, RebuildState.DONE]
    assert str(await store.voices.rebuilds.progress("model-b")) == "2 of 2"
    for voice in (alice, bob):
        folder = library.folder(voice.id)
        assert (folder / "conds-model-b.pt").read_text() == "model-b from 1 sample(s)"
        assert (folder / "conds-model-a.pt").is_file()  # the old model's are kept
        row = await store.voices.get(voice.id)
        assert row is not None and row.tts_model == "model-b"
        assert row.conditionals == f"voices/{voice.id}/conds-model-b.pt"
    assert (library.folder(alice.id) / "conds-model-a.pt").read_text() == old_conds[alice.id]
    [entry, *_] = await store.audit.entries(voice_id=alice.id)
    assert entry.action is AuditAction.REBUILD and entry.who.kind is ActorKind.SYSTEM
    assert entry.detail == {"tts_model": "model-b", "samples": 1, "was": "model-a"}
    assert await work.queue_missing() == []  # nothing left: the next start does nothing

    engine.label = "model-a"  # back: every voice still has its conditionals for it
    built = len(engine.built)
    assert await rebuilder(store, library, engine).queue_missing() == []
    assert len(engine.built) == built
    row = await store.voices.get(alice.id)
    assert row is not None and row.tts_model == "model-a"  # the row points at them again


async def test_a_restart_continues_with_the_voices_still_waiting(
    store: Store, library: VoiceLibrary, clip: Path
) -> None:
    engine = StandInEngine("model-a")
    voices = [await enroll(store, library, engine, clip, name) for name in ("A", "B", "C")]
    engine.label, engine.fail_after = "model-b", len(engine.built) + 1
    first = rebuilder(store, library, engine)
    waiting = await first.queue_missing()
    with pytest.raises(JobCancelledError):  # closed after the first voice
        await first.run(waiting)
    assert str(await store.voices.rebuilds.progress("model-b")) == "1 of 3"

    engine.fail_after = None  # the next start
    again = await rebuilder(store, library, engine).queue_missing()
    assert again == waiting[1:]
    assert str(await store.voices.rebuilds.progress("model-b")) == "1 of 3"  # the same round
    await rebuilder(store, library, engine).run(again)
    assert str(await store.voices.rebuilds.progress("model-b")) == "3 of 3"
    assert all(engine.profile(library.folder(v.id)).exists for v in voices)

    engine.label = "model-c"  # a later switch starts a new round
    await rebuilder(store, library, engine).queue_missing()
    assert str(await store.voices.rebuilds.progress("model-c")) == "0 of 3"


async def test_a_voice_whose_samples_fail_is_marked_and_not_tried_again(
    store: Store, library: VoiceLibrary, clip: Path
) -> None:
    engine = StandInEngine("model-a")
    good = await enroll(store, library, engine, clip, "Good")
    broken = await enroll(store, library, engine, clip, "Broken")
    for sample in await store.voices.samples(broken.id):
        library.path(sample.path).unlink()
    engine.label = "model-b"
    work = rebuilder(store, library, engine)
    report = await work.run(await work.queue_missing())
    assert [o.voice.name for o in report.rebuilt] == ["Good"]
    [failed] = report.failed
    assert failed.detail == "clip.wav is missing from the voice's folder"
    record = await store.voices.rebuilds.get(broken.id, "model-b")
    assert record is not None and record.state is RebuildState.FAILED
    assert await work.queue_missing() == []  # the next start does not try it again
    with pytest.raises(VoiceNotPreparedError) as refused:
        await ready_profile(store, library, cast(Engine, engine), broken)
    assert refused.value.for_member() == (
        "The voice **Broken** could not be prepared for the new model; its owner can add a "
        "sample with `/voice add-sample` or enrol it again."
    )
    assert "clip.wav is missing" in str(refused.value)
    assert (await ready_profile(store, library, cast(Engine, engine), good)).exists
    assert await work.queue_missing(retry_failed=True) == [broken.id]  # the CLI tries again


async def test_members_are_told_the_voice_is_being_prepared(
    store: Store, library: VoiceLibrary, clip: Path
) -> None:
    engine = StandInEngine("model-a")
    alice = await enroll(store, library, engine, clip, "Alice")
    bob = await enroll(store, library, engine, clip, "Bob")
    empty = await store.voices.create(
        name="Empty", owner_id=1, guild_id=2, status=VoiceStatus.READY
    )
    engine.label = "model-b"
    as_engine = cast(Engine, engine)

    with pytest.raises(VoiceBeingPreparedError) as before:  # started, not queued yet
        await ready_profile(store, library, as_engine, alice)
    assert "being prepared for the new model;" in before.value.for_member()

    await rebuilder(store, library, engine).queue_missing()
    with pytest.raises(VoiceBeingPreparedError) as waiting:
        await ready_profile(store, library, as_engine, alice)
    assert waiting.value.for_member() == (
        "The voice **Alice** is being prepared for the new model (0 of 2); "
        "please try again in a few minutes."
    )
    assert isinstance(waiting.value, VoiceNotEnrolledError)  # old handlers still match
    assert f"parrot voices rebuild {alice.id}" in str(waiting.value)
    with pytest.raises(VoiceNotEnrolledError) as nothing:  # no samples: enrol it again
        await ready_profile(store, library, as_engine, empty)
    assert not isinstance(nothing.value, VoiceBeingPreparedError)
    assert "enrol it again" in nothing.value.for_member()

    await rebuilder(store, library, engine).run([alice.id])
    notes = await preparation_notes(store, library, as_engine, [alice, bob, empty])
    assert notes == {bob.id: "being prepared for the new model (1 of 2)"}


async def test_a_sample_added_or_the_voice_deleted_during_its_rebuild(
    store: Store, library: VoiceLibrary, clip: Path
) -> None:
    engine = StandInEngine("model-a")
    grows = await enroll(store, library, engine, clip, "Grows")
    goes = await enroll(store, library, engine, clip, "Goes")
    enroller = VoiceEnroller(store, library, cast(Engine, engine), SampleLimits())
    engine.label = "model-b"

    async def add_sample(folder: Path) -> None:
        engine.label = "model-a"  # add_sample builds for its own (stand-in) model
        consent = Consent.now(ConsentPath.DISCORD)
        await enroller.add_sample(
            grows, clip, original_name="more.wav", consent=consent, who=Who.member(1)
        )
        engine.label = "model-b"

    engine.during_build = add_sample
    outcome = await rebuilder(store, library, engine).rebuild(grows)
    assert outcome.ok
    conds = library.folder(grows.id) / "conds-model-b.pt"
    assert conds.read_text() == "model-b from 2 sample(s)"  # built again with the new one

    async def delete(folder: Path) -> None:
        async with store.unit_of_work() as work:
            await work.voices.delete(goes.id)
        await library.remove_folder(goes.id)
        folder.mkdir(parents=True)  # the build writes into it again

    engine.during_build = delete
    outcome = await rebuilder(store, library, engine).rebuild(goes)
    assert not outcome.ok and outcome.detail == "the voice was deleted"
    assert not library.folder(goes.id).exists()


# the command line ----------------------------------------------------------------------------


@pytest.fixture
def cli(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Callable[..., Result], StandInEngine, io.StringIO]:
    """``parrot`` with the stand-in engine (model-b) and a terminal to draw the bar on."""
    engine = StandInEngine("model-b")
    monkeypatch.setattr(rebuild_cli, "build_engine", lambda settings: engine)
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120)
    monkeypatch.setattr(rebuild_cli, "error_console", terminal)
    monkeypatch.setattr(common.error_console, "_width", 250)
    runner = CliRunner(env={"PARROT_DATA": str(data_dir)})

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["voices", "rebuild", *args])

    return invoke, engine, screen


async def seed(data_dir: Path, clip: Path, names: list[str]) -> dict[str, Voice]:
    async with await Store.open(data_dir / "parrot.db") as store:
        library = VoiceLibrary(store, data_dir)
        engine = StandInEngine("model-a")
        return {name: await enroll(store, library, engine, clip, name) for name in names}


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


async def test_parrot_voices_rebuild(
    cli: tuple[Callable[..., Result], StandInEngine, io.StringIO], data_dir: Path, clip: Path
) -> None:
    invoke, engine, screen = cli
    voices = await seed(data_dir, clip, ["Alice", "Bob"])

    result = await asyncio.to_thread(invoke)
    assert result.exit_code == 0, result.output
    assert "Rebuilt 2 voice(s) for model-b." in result.stdout
    assert "2/2" in screen.getvalue()  # the bar counted both
    assert "rebuilding Bob" in screen.getvalue() or "rebuilding Alice" in screen.getvalue()
    result = await asyncio.to_thread(invoke)
    assert "Every voice already has conditionals for model-b." in result.stdout

    built = len(engine.built)  # a named voice, and --all, rebuild even when built
    assert (await asyncio.to_thread(invoke, "Alice")).exit_code == 0
    assert (await asyncio.to_thread(invoke, "--all")).exit_code == 0
    assert len(engine.built) == built + 3

    sample = data_dir / "voices" / voices["Bob"].id / "samples"
    for path in sample.iterdir():
        path.unlink()
    result = await asyncio.to_thread(invoke, "--all")
    assert one_error_line(result) == (
        "parrot: 1 of 2 voice(s) could not be rebuilt for model-b: "
        "Bob (clip.wav is missing from the voice's folder)"
    )
    async with await Store.open(data_dir / "parrot.db") as store:
        entries = await store.audit.entries(voice_id=voices["Alice"].id)
    assert {e.who.kind for e in entries if e.action is AuditAction.REBUILD} == {ActorKind.CLI}

    assert "not both" in one_error_line(await asyncio.to_thread(invoke, "--all", "Alice"))
    assert "no voice named" in one_error_line(await asyncio.to_thread(invoke, "Nobody"))
    engine.model_missing = True
    line = one_error_line(await asyncio.to_thread(invoke, "Alice"))
    assert "parrot models download original" in line
