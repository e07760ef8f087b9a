"""Preset voices from ``references/`` through the real import path (decode, checks,
enrolment on the random Chatterbox), then unchanged, changed, removed and restored files."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.access import Actor
from bot.cli import common
from bot.cli.app import app
from bot.health import Level, check_presets
from bot.presets import ImportReport, PresetAction, preset_importer
from bot.presets.sources import scan_references
from bot.runtime import build_engine
from bot.settings import Settings
from bot.store import Store
from bot.store.audit import AuditAction, Who
from bot.store.models import ConsentPath, Visibility, VoiceSource, VoiceStatus
from bot.store.presets import PresetStatus
from bot.voice_lookup import default_voice
from engine.engine import Engine
from tests.engine.speech import convert, espeak

GUILD, MEMBER = 5, 6


@pytest.fixture
def references(tmp_path: Path) -> Path:
    folder = tmp_path / "references"
    folder.mkdir()
    espeak(folder / "Narrator.wav", "Good evening, and welcome.")
    choir = folder / "Choir"
    choir.mkdir()
    wav = espeak(tmp_path / "choir.wav", "We sing together, every day.")
    convert(wav, choir / "one.mp3", "-c:a", "libmp3lame", "-b:a", "64k")
    convert(wav, choir / "two.ogg", "-c:a", "libopus", "-b:a", "32k")
    (folder / "broken.mp3").write_bytes(b"this is not audio at all" * 100)
    (folder / "README.md").write_text("documentation, not a voice\n")
    return folder


@pytest.fixture
def preset_settings(tmp_path: Path, references: Path, chatterbox_models_dir: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        device="cpu",
        models_dir=chatterbox_models_dir,
        torch_threads=1,
        min_sample_seconds=1.0,
        references_dir=references,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def engine(preset_settings: Settings) -> AsyncIterator[Engine]:
    engine = build_engine(preset_settings)
    try:
        yield engine
    finally:
        await engine.shutdown()


def actions(report: ImportReport) -> dict[str, PresetAction]:
    return {o.name: o.action for o in report.outcomes}


def test_scan_finds_files_and_folders_and_reports_clashes(tmp_path: Path) -> None:
    root = tmp_path / "refs"
    (root / "Ann").mkdir(parents=True)
    (root / "Ann" / "a.wav").write_bytes(b"a")
    (root / "Ann" / "nested").mkdir()
    (root / "ann.mp3").write_bytes(b"b")
    (root / "Empty").mkdir()
    (root / "Bob.flac").write_bytes(b"c")
    (root / ".hidden.wav").write_bytes(b"d")
    (root / "notes.txt").write_text("not a voice")
    scan = scan_references(root)
    assert [s.name for s in scan.sources] == ["Bob"]
    problems = {(p.source, p.name) for p in scan.problems}
    assert problems == {
        ("Ann/nested", None),
        ("Empty/", "Empty"),
        ("Ann/", "Ann"),
        ("ann.mp3", "ann"),
    }
    assert not scan_references(tmp_path / "missing").exists
    (root / "Bob.flac").write_bytes(b"changed")  # the digest follows the content
    assert scan_references(root).sources[0].sha256 != scan.sources[0].sha256


async def test_presets_lifecycle(
    preset_settings: Settings, engine: Engine, references: Path, tmp_path: Path
) -> None:
    async with await Store.open(preset_settings.database_path) as store:
        importer = preset_importer(store, engine, preset_settings)

        first = await importer.import_all()
        assert actions(first) == {
            "Narrator": PresetAction.ADDED,
            "Choir": PresetAction.ADDED,
            "broken": PresetAction.FAILED,
        }
        [failure] = first.failed
        assert failure.source == "broken.mp3" and "audio" in failure.detail.lower()
        voices = {v.name: v for v in await store.voices.list()}
        assert set(voices) == {"Narrator", "Choir"}
        for voice in voices.values():
            assert voice.source is VoiceSource.PRESET and voice.visibility is Visibility.GLOBAL
            assert voice.owner_id is None and voice.guild_id is None
            assert voice.status is VoiceStatus.READY
        assert len(await store.voices.samples(voices["Choir"].id)) == 2
        narrator = voices["Narrator"]

        # converted once: nothing is enrolled again while the files are unchanged
        conds = next(preset_folder(preset_settings, narrator.id).glob("conds-*.pt"))
        stamp = conds.stat().st_mtime_ns
        again = await importer.import_all()
        assert actions(again)["Narrator"] is PresetAction.UNCHANGED
        assert actions(again)["Choir"] is PresetAction.UNCHANGED
        assert actions(again)["broken"] is PresetAction.FAILED  # still reported, every time
        assert conds.stat().st_mtime_ns == stamp

        # doctor warns about the failed one by name, with its reason
        [warning] = await check_presets(preset_settings)
        assert warning.level is Level.WARN and warning.name == "preset broken"
        assert "broken.mp3" in warning.detail

        # a member's default follows a changed reference; the old files go
        await store.settings.set_member_voice(GUILD, MEMBER, narrator.id)
        await store.settings.update_guild(GUILD, default_voice_id=voices["Choir"].id)
        espeak(references / "Narrator.wav", "A different recording of the narrator.")
        changed = await importer.import_all()
        assert actions(changed)["Narrator"] is PresetAction.UPDATED
        [updated] = [v for v in await store.voices.list() if v.name == "Narrator"]
        assert updated.id != narrator.id and updated.visibility is Visibility.GLOBAL
        assert await store.settings.member_voice(GUILD, MEMBER) == updated.id
        assert not preset_folder(preset_settings, narrator.id).exists()

        # a removed reference retires its voice; defaults fall back with a notice
        (references / "broken.mp3").unlink()
        await store.settings.set_member_voice(GUILD, MEMBER, voices["Choir"].id)
        await store.settings.update_guild(GUILD, default_voice_id=updated.id)
        shutil.move(references / "Choir", tmp_path / "Choir-aside")
        removed = await importer.import_all()
        assert actions(removed)["Choir"] is PresetAction.RETIRED
        assert actions(removed)["broken"] is PresetAction.RETIRED
        choir = await store.voices.get(voices["Choir"].id)
        assert choir is not None and choir.status is VoiceStatus.RETIRED
        assert await store.presets.get("broken") is None
        resolved = await default_voice(store, Actor(MEMBER, GUILD))
        assert resolved is not None and resolved.voice.id == updated.id
        assert resolved.notice and "**Choir** was retired" in resolved.notice
        [healthy] = await check_presets(preset_settings)
        assert healthy.level is Level.OK and "1 ready" in healthy.detail

        # putting the same files back restores the voice without enrolling it again
        shutil.move(tmp_path / "Choir-aside", references / "Choir")
        restored = await importer.import_all()
        assert actions(restored)["Choir"] is PresetAction.RESTORED
        choir = await store.voices.get(voices["Choir"].id)
        assert choir is not None and choir.status is VoiceStatus.READY
        preset = await store.presets.get("choir")
        assert preset is not None and preset.status is PresetStatus.READY

        # consent: the bot owner placed every file; the trail is Parrot's own doing
        for voice in await store.voices.list():
            assert voice.consent_via is ConsentPath.PRESET and voice.consent_at
            samples = await store.voices.samples(voice.id)
            assert all(s.consent and s.consent.via is ConsentPath.PRESET for s in samples)
        trail = await store.audit.entries()
        assert all(entry.who == Who.system() for entry in trail)

        def actions_on(voice_id: str) -> list[str]:
            return [entry.action.value for entry in trail if entry.voice_id == voice_id]

        assert actions_on(narrator.id) == ["delete", "enrol"]
        assert actions_on(updated.id) == ["replace", "enrol"]
        assert actions_on(voices["Choir"].id) == ["restore", "retire", "enrol"]
        replaced = next(e for e in trail if e.action is AuditAction.REPLACE)
        assert replaced.voice_name == "Narrator" and replaced.detail == {
            "replaces": narrator.id,
            "source": "Narrator.wav",
        }


def preset_folder(settings: Settings, voice_id: str) -> Path:
    return settings.data_dir / "voices" / voice_id


async def test_missing_folder_retires_nothing(preset_settings: Settings, engine: Engine) -> None:
    async with await Store.open(preset_settings.database_path) as store:
        await store.presets.mark_failed("Old", "Old.wav", "", "was broken")
        settings = preset_settings.model_copy(update={"references_dir": Path("nowhere")})
        report = await preset_importer(store, engine, settings).import_all()
        assert not report.folder_exists and report.outcomes == []
        assert await store.presets.get("Old") is not None


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.setattr(common.console, "_width", 250)
    monkeypatch.setattr(common.error_console, "_width", 250)
    runner = CliRunner(env={"PARROT_DATA": str(tmp_path / "data"), "PARROT_DEVICE": "cpu"})
    return lambda *args: runner.invoke(app, list(args))


def test_cli_import_reports_failures_with_reasons(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    folder = tmp_path / "refs"
    folder.mkdir()
    (folder / "Static.wav").write_bytes(b"RIFF....WAVEfmt " + bytes(64))
    (folder / "README.md").write_text("about this folder")
    result = cli("voices", "import-references", "--folder", str(folder))
    assert result.exit_code == 1, result.output
    assert "Static" in result.stdout and "failed" in result.stdout
    assert "1 failed" in result.stdout
    assert result.stderr.strip() == "parrot: 1 reference(s) could not be imported: Static"

    missing = cli("voices", "import-references", "--folder", str(tmp_path / "none"))
    assert missing.exit_code == 1
    assert "does not exist" in missing.stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    ok = cli("voices", "import-references", "--folder", str(empty))
    assert ok.exit_code == 0, ok.output
    assert "1 retired" in ok.stdout  # the failed one is forgotten once its file is gone
    assert "no references" in cli("voices", "import-references", "--folder", str(empty)).stdout


async def test_the_bot_imports_presets_in_the_background_at_start_up(
    fake_discord: object, guild: object, settings: Settings, tmp_path: Path
) -> None:
    from tests.conftest import started_bot

    folder = tmp_path / "refs"
    folder.mkdir()
    (folder / "Hum.wav").write_bytes(b"not audio")
    configured = settings.model_copy(update={"references_dir": folder})
    async with started_bot(configured) as parrot:
        cog = parrot.get_cog("PresetsCog")
        assert cog is not None and cog.import_task is not None  # type: ignore[attr-defined]
        report = await cog.import_task  # type: ignore[attr-defined]
        assert report is not None and actions(report) == {"Hum": PresetAction.FAILED}
        [preset] = await parrot.store.presets.failed()
        assert preset.name == "Hum" and preset.error
