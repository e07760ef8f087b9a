"""``/cover`` and ``/voice singing-model`` through the real discord.py client, the fake
Discord and the engine on random weights (tiny Demucs, random Chatterbox, small RVC)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.client import ParrotBot
from bot.exts.covers.request import cover_request, song_limits
from bot.links import AddressGuard, SongLinks
from bot.settings import Settings
from bot.store.models import JobState
from engine.config import SingingMethod
from engine.watermark import WATERMARK_THRESHOLD
from tests.bot.conftest import add_voice, reply_text, sub
from tests.bot.cover_support import COVER_WAIT_S, attach, cover, enrol
from tests.checkpoints.rvc import small_rvc_voice, write_index
from tests.conftest import TEST_TOKEN, started_bot
from tests.engine.cover_fixtures import song_file_fixture  # noqa: F401
from tests.engine.watermark import file_confidence
from tests.fakediscord import FakeDiscord, FakeGuild
from tests.song_server import serve_songs

EPHEMERAL = 64


@pytest.fixture
def cover_settings(tmp_path: Path, cover_models_dir: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        discord_token=TEST_TOKEN,
        device="cpu",
        models_dir=cover_models_dir,
        torch_threads=1,
        min_sample_seconds=1.0,
        singing_decoder_steps=1,
        max_song_seconds=20,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def cover_bot(
    fake_discord: FakeDiscord, guild: FakeGuild, cover_settings: Settings
) -> AsyncIterator[ParrotBot]:
    async with started_bot(cover_settings) as parrot:
        yield parrot


def probe_duration(data: bytes, folder: Path) -> float:
    path = folder / "cover.ogg"
    path.write_bytes(data)
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout)


def posted_confidence(data: bytes, folder: Path) -> float:
    """Perth's confidence on the file as Discord received it."""
    path = folder / "posted-cover"
    path.write_bytes(data)
    return file_confidence(path)


def cancel_id(log: Any) -> str:
    components = log.sent[0]["components"] if log.sent else log.edits[-1]["components"]
    return str(components[0]["components"][0]["custom_id"])


async def test_a_cover_is_posted_with_progress_and_recorded(
    cover_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    short_speech_clips: dict[str, Path],
    song_file: Path,
    tmp_path: Path,
) -> None:
    voice = await enrol(cover_bot, people["owner"], guild, short_speech_clips["wav"])
    log = await cover(fake_discord, guild, people["other"], song_file, voice.name, pitch=2)
    await fake_discord.wait_for(lambda: bool(log.files), timeout=COVER_WAIT_S)

    assert log.callbacks[0]["type"] == 5  # deferred at once, publicly
    texts = reply_text(log)
    assert "Cover of `song.wav` in **Olive**, key +2" in texts
    assert "%" in texts  # progress edits with a percentage
    assert "✅ Done" in log.edits[-1]["content"]
    assert log.edits[-1]["components"] == []  # the cancel button is gone
    assert "Sung with zero-shot singing" in log.followups[-1]["content"]
    name, data = log.files[-1]
    assert name.endswith(".ogg")
    assert probe_duration(data, tmp_path) == pytest.approx(3.0, abs=0.15)
    assert posted_confidence(data, tmp_path) >= WATERMARK_THRESHOLD

    jobs = await cover_bot.store.jobs.unfinished()
    assert jobs == []
    rows = await cover_bot.store.db.fetch_all(
        "SELECT kind, user_id, method, audio_seconds FROM generations"
    )
    assert [tuple(row) for row in rows] == [
        ("cover", int(people["other"]["id"]), "zero-shot", pytest.approx(3.0, abs=0.15))
    ]
    assert not list((cover_bot.settings.data_dir / "jobs").iterdir())  # the upload is gone


async def test_a_singing_model_is_checked_attached_and_used(
    cover_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    short_speech_clips: dict[str, Path],
    song_file: Path,
    tmp_path: Path,
) -> None:
    voice = await enrol(cover_bot, people["owner"], guild, short_speech_clips["wav"])
    owner = people["owner"]

    async def attach_model(*files: tuple[str, Path, bytes | None]) -> Any:
        attached = [attach(fake_discord, name, path, data) for name, path, data in files]
        log = await fake_discord.slash(
            guild,
            owner,
            "voice",
            [
                {
                    "name": "singing-model",
                    "type": 1,
                    "options": [
                        {"name": "voice", "type": 3, "value": voice.name},
                        *(option for option, _ in attached),
                    ],
                }
            ],
            resolved={"attachments": {payload["id"]: payload for _, payload in attached}},
        )
        await fake_discord.wait_for(lambda: bool(log.followups), timeout=60)
        return log

    log = await attach_model(("model", tmp_path / "my-voice.pth", b"PK\x03\x04 not a model"))
    assert "That singing model can't be used" in reply_text(log)
    assert "my-voice.pth" in reply_text(log)

    index = write_index(tmp_path / "voice.index", 768, count=64)
    log = await attach_model(("model", small_rvc_voice("v2", 40_000), None), ("index", index, None))
    assert "now sings covers with its RVC model and its index (RVC v2, 40 kHz" in reply_text(log)

    log = await cover(fake_discord, guild, owner, song_file, voice.name, method="rvc")
    await fake_discord.wait_for(lambda: bool(log.files), timeout=COVER_WAIT_S)
    assert "Sung with RVC model" in log.followups[-1]["content"]
    assert probe_duration(log.files[-1][1], tmp_path) == pytest.approx(3.0, abs=0.15)
    assert posted_confidence(log.files[-1][1], tmp_path) >= WATERMARK_THRESHOLD

    other = await fake_discord.slash(
        guild, people["other"], "voice", sub("forget-singing-model", voice=voice.name)
    )
    await fake_discord.wait_for(lambda: other.answered)
    assert "Only the owner of **Olive** can change it" in reply_text(other)
    log = await fake_discord.slash(
        guild, owner, "voice", sub("forget-singing-model", voice=voice.name)
    )
    await fake_discord.wait_for(lambda: log.answered)
    assert "sings zero-shot again" in reply_text(log)
    assert not list(cover_bot.library.folder(voice.id).glob("singing/*"))


async def test_covers_wait_their_turn_and_can_be_cancelled_by_their_owner_only(
    cover_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    short_speech_clips: dict[str, Path],
    song_file: Path,
) -> None:
    voice = await enrol(cover_bot, people["owner"], guild, short_speech_clips["wav"])
    first = await cover(fake_discord, guild, people["owner"], song_file, voice.name)
    await fake_discord.wait_for(lambda: bool(first.edits))
    second = await cover(fake_discord, guild, people["other"], song_file, voice.name)
    await fake_discord.wait_for(lambda: "position 1" in reply_text(second))

    again = await cover(fake_discord, guild, people["other"], song_file, voice.name)
    await fake_discord.wait_for(lambda: again.answered)
    assert "already have 1 cover" in reply_text(again)

    message = second.sent[0]
    intruder = await fake_discord.click(guild, people["owner"], message, cancel_id(second))
    await fake_discord.wait_for(lambda: intruder.answered)
    assert "Only the member who asked" in reply_text(intruder)

    for log, member in ((second, people["other"]), (first, people["owner"])):
        click = await fake_discord.click(guild, member, log.sent[0], cancel_id(log))
        await fake_discord.wait_for(lambda log=log: "Cancelled" in reply_text(log))
        assert click.callbacks[0]["type"] == 6  # acknowledged without a new message
    states = await cover_bot.store.db.fetch_all("SELECT state FROM jobs")
    assert sorted(row[0] for row in states) == ["cancelled", "cancelled"]
    assert not list(cover_bot.settings.data_dir.joinpath("jobs").iterdir())
    assert not first.files and not second.files


async def test_refusals_are_ephemeral_and_specific(
    cover_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    short_speech_clips: dict[str, Path],
    song_file: Path,
    tmp_path: Path,
) -> None:
    voice = await enrol(cover_bot, people["owner"], guild, short_speech_clips["wav"])
    member = people["other"]

    async def refusal(log: Any) -> str:
        await fake_discord.wait_for(lambda: log.answered)
        assert log.callbacks[0]["data"]["flags"] & EPHEMERAL
        return reply_text(log)

    text_file = tmp_path / "lyrics.txt"
    text_file.write_text("la la la")
    assert "not an audio file" in await refusal(
        await cover(fake_discord, guild, member, text_file, voice.name)
    )
    assert "/voice singing-model" in await refusal(
        await cover(fake_discord, guild, member, song_file, voice.name, method="rvc")
    )
    assert "I don't know a voice called `Nobody`" in await refusal(
        await cover(fake_discord, guild, member, song_file, "Nobody")
    )

    long_song = tmp_path / "long.wav"
    subprocess.run(
        ["sox", str(song_file), str(long_song), "repeat", "7"], check=True, capture_output=True
    )
    log = await cover(fake_discord, guild, member, long_song, voice.name)
    await fake_discord.wait_for(lambda: "❌" in reply_text(log), timeout=60)
    assert "covers are limited to 0:20" in reply_text(log)


async def test_links_and_style_are_checked_and_the_engine_waits_for_the_deferral(
    cover_bot: ParrotBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    song_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No model work: a voice row, a spy in front of the engine and of the runner. The song
    comes by link from a local site that only this test opens (the cog's ``links``)."""
    owner = people["owner"]
    voice = await add_voice(cover_bot, "Olive", owner, guild)
    conditionals = cover_bot.library.folder(voice.id) / f"conds-{cover_bot.engine.backend_name}.pt"
    conditionals.write_bytes(b"never read")  # a zero-shot cover wants them to exist
    engine_saw: list[list[int]] = []
    submitted: list[Any] = []

    async def spy(method: SingingMethod, **_: Any) -> SingingMethod:
        latest = list(fake_discord.interactions.values())[-1]  # the request being handled
        engine_saw.append([callback["type"] for callback in latest.callbacks])
        return SingingMethod.ZERO_SHOT

    monkeypatch.setattr(cover_bot.engine, "check_cover_available", spy)
    monkeypatch.setattr(cover_bot.cover_runner, "submit", lambda job, _: submitted.append(job))

    async def slash(**options: Any) -> Any:
        listed = [{"name": "voice", "type": 3, "value": voice.name}]
        listed += [
            {"name": key, "type": 10 if isinstance(value, float) else 3, "value": value}
            for key, value in options.items()
        ]
        log = await fake_discord.slash(guild, owner, "cover", listed)
        await fake_discord.wait_for(lambda: log.answered)
        return log

    async def refusal(**options: Any) -> str:
        log = await slash(**options)
        assert log.callbacks[0]["data"]["flags"] & EPHEMERAL, options
        return reply_text(log)

    assert "not neither" in await refusal()
    assert "I only fetch songs from youtube.com, youtu.be" in await refusal(
        url="https://a.example/s"
    )
    assert "`reverb` must be between 0 and 1, got 3.0." in await refusal(
        url="https://youtu.be/x", reverb=3.0
    )
    assert "leave them out" in await refusal(url="https://youtu.be/x", pitch_method="fcpe")
    assert engine_saw == []  # every refusal so far came before the deferral

    with serve_songs(song_file) as site:
        cog = cover_bot.get_cog("CoversCog")
        cog.links = SongLinks(  # type: ignore[union-attr]  # the cog is loaded
            ("127.0.0.1",),
            song_limits(cover_bot.settings),
            timeout_s=20,
            guard=AddressGuard(exempt=[("127.0.0.1", site.port)]),
        )
        log = await slash(url=site.url("/page.html"), vocal_gain=-3.0, reverb=0.4)
        await fake_discord.wait_for(lambda: "Cover of" in reply_text(log), timeout=30)
        async with asyncio.timeout(5):
            while not submitted:  # handed to the runner just after the message is edited
                await asyncio.sleep(0.02)
        assert engine_saw == [[5]]  # the engine was asked only once Discord had its answer
        assert "Fetching the song from 127.0.0.1" in reply_text(log)
        assert "Cover of `Test Song` in **Olive** (vocals -3 dB, reverb 0.40)" in reply_text(log)
        job = submitted[0]
        assert job.params["song_url"] == site.url("/page.html")
        assert job.params["vocal_gain_db"] == -3.0 and job.params["reverb"] == 0.4
        assert cover_bot.library.path(job.input_path).read_bytes() == site.song

        await cover_bot.store.jobs.finish(job.id, JobState.CANCELLED)  # room for one more
        long = await slash(url=site.url("/long.html"))
        await fake_discord.wait_for(lambda: bool(long.followups), timeout=30)
    assert engine_saw == [[5], [5]]
    assert long.deleted  # the public "thinking…" went, so only the member reads the refusal
    assert long.followups[-1]["flags"] & EPHEMERAL
    assert "60:00 long; covers are limited to 0:20" in long.followups[-1]["content"]


async def test_after_a_restart_jobs_resume_or_fail_with_a_message(
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    people: dict[str, dict[str, Any]],
    cover_settings: Settings,
    short_speech_clips: dict[str, Path],
    song_file: Path,
) -> None:
    channel_id = int(guild.text_channel["id"])
    async with started_bot(cover_settings) as parrot:
        voice = await enrol(parrot, people["owner"], guild, short_speech_clips["wav"])
        jobs_dir = cover_settings.data_dir / "jobs"
        jobs_dir.mkdir(parents=True)
        shutil.copy(song_file, jobs_dir / "kept.wav")
        made = []
        for input_name in ("kept.wav", "gone.wav"):
            progress = fake_discord.rest._store_message(channel_id, {"content": "…"}, [])
            job = await parrot.store.jobs.create(
                kind="cover",
                user_id=int(people["owner"]["id"]),
                guild_id=guild.id,
                channel_id=channel_id,
                voice_id=voice.id,
                params=cover_request(
                    song_name=input_name,
                    voice_name=voice.name,
                    semitones=0,
                    method=SingingMethod.AUTO,
                    max_bytes=8 * 1024 * 1024,
                ),
                input_path=f"jobs/{input_name}",
            )
            await parrot.store.jobs.set_message(job.id, int(progress["id"]))
            await parrot.store.jobs.advance(job.id, "separate", 0.5)
            made.append(job)
    # The first process ended with both jobs "running"; the next one picks them up.
    async with started_bot(cover_settings) as parrot:
        kept, gone = made
        await fake_discord.wait_for(
            lambda: any(m["attachments"] for m in fake_discord.channel_messages[channel_id]),
            timeout=COVER_WAIT_S,
        )
        finished = await parrot.store.jobs.get(kept.id)
        failed = await parrot.store.jobs.get(gone.id)
        assert finished is not None and finished.state is JobState.DONE
        assert failed is not None and failed.state is JobState.FAILED
        contents = [m["content"] for m in fake_discord.channel_messages[channel_id]]
        assert any("the upload of gone.wav is gone" in text for text in contents)
        assert any("is ready for" in text for text in contents)
        assert not (cover_settings.data_dir / "jobs" / "kept.wav").exists()
