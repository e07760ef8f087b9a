"""``parrot cover`` and ``parrot voices singing-model``: covers without Discord.

The command-line face of :mod:`bot.exts.covers`. ``engine.api`` is cheap to import (the
engine loads torch at first use): ``parrot --help`` stays fast.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from bot.cli.common import (
    console,
    error_console,
    fail,
    open_store,
    resolve_voice,
    run,
    settings_from,
)
from bot.exts.covers.request import (
    CLI_OPTIONS,
    CoverStyle,
    as_option,
    checked_style,
    song_links,
)
from bot.exts.covers.singing_models import (
    SingingModelMissingError,
    attach_singing_model,
    detach_singing_model,
    present_singing_model_paths,
)
from bot.links import FetchedSong, SongLink, SongLinks, looks_like_link
from bot.runtime import build_engine
from bot.settings import Settings
from bot.store import Store
from bot.store.audit import Who
from bot.store.models import Voice, VoiceStatus
from bot.voices.files import VoiceLibrary
from engine.api import (
    COVER_SEED,
    STAGES,
    AudioFormat,
    CoverResult,
    ParrotError,
    RvcCheckpointError,
    RvcIndexError,
    SingingMethod,
    SingingParams,
    VoiceEngine,
    VoiceProfile,
    atomic_copy,
    check_song_length,
    probe_duration,
)

COVER_FORMATS = {
    ".ogg": AudioFormat.OGG_OPUS,
    ".opus": AudioFormat.OGG_OPUS,
    ".mp3": AudioFormat.MP3,
}
FORMAT_NAMES = {AudioFormat.OGG_OPUS: "Opus", AudioFormat.MP3: "MP3"}
LOCAL_MAX_BYTES = 2**31
"""A cover written to a local file has no upload limit: always the top bitrate."""


def _output_format(output: Path) -> AudioFormat:
    audio_format = COVER_FORMATS.get(output.suffix.lower())
    if audio_format is None:
        fail(
            f"cannot write a cover as {output.suffix or 'a file without a suffix'}:"
            " use .mp3, .ogg or .opus"
        )
    if not output.parent.is_dir():
        fail(f"cannot write {output}: there is no folder {output.parent}")
    return audio_format


def _check_song(song: Path, settings: Settings) -> float | None:
    """The song's stated duration, after the checks that need no decoding."""
    if not song.is_file():
        fail(f"no such song file: {song}")
    size = song.stat().st_size
    limit = settings.max_song_upload_mb * 1024 * 1024
    if size > limit:
        fail(
            f"the song file is {size / 2**20:.1f} MB; the limit is "
            f"{settings.max_song_upload_mb:g} MB (PARROT_MAX_SONG_UPLOAD_MB)"
        )
    seconds = probe_duration(song)
    if seconds is not None:
        check_song_length(seconds, settings.max_song_seconds)
    return seconds


class StageBar:
    """A rich progress bar fed by the engine's ``(stage, fraction)`` reports: one bar per
    stage in turn, its clock restarting with each stage."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID = progress.add_task("starting", total=1.0)
        self._stage = ""

    def __call__(self, stage: str, fraction: float) -> None:
        completed = max(0.0, min(1.0, fraction))
        if stage == self._stage:
            self._progress.update(self._task, completed=completed)
            return
        self._stage = stage
        number = STAGES.index(stage) + 1 if stage in STAGES else 0
        self._progress.reset(self._task, description=f"{stage} ({number}/{len(STAGES)})")
        self._progress.update(self._task, completed=completed)


@dataclass(frozen=True, slots=True)
class CoverRequest:
    song: str
    """A file name, or a link (``://``)."""
    voice: str
    method: SingingMethod
    style: CoverStyle
    output_format: AudioFormat


@dataclass(frozen=True, slots=True)
class Singer:
    """The voice of a cover and how it will sing, checked before the song is fetched."""

    voice: Voice
    method: SingingMethod
    singing_model: tuple[Path, Path | None] | None
    profile: VoiceProfile


async def _singer(
    request: CoverRequest, settings: Settings, engine: VoiceEngine, store: Store
) -> Singer:
    found = await resolve_voice(store, request.voice)
    if found.status is not VoiceStatus.READY:
        fail(f"voice {found.name!r} is {found.status}, not ready")
    library = VoiceLibrary(store, settings.data_dir)
    try:
        singing_model = present_singing_model_paths(library, found)
    except SingingModelMissingError as error:
        fail(str(error))
    if request.method is SingingMethod.RVC and singing_model is None:
        fail(
            f"voice {found.name!r} has no singing model: attach one with `parrot voices "
            f"singing-model {found.name} MODEL.pth [INDEX]`, or use --method zero-shot"
        )
    chosen = await engine.check_cover_available(
        request.method,
        has_singing_model=singing_model is not None,
        pitch_method=request.style.conversion_params().pitch_method,
    )
    profile = engine.profile(library.folder(found.id))
    if chosen is SingingMethod.ZERO_SHOT and not profile.exists:
        fail(
            f"voice {found.name!r} has no conditionals for {profile.backend} to sing with: "
            f"enrol it again with PARROT_TTS_MODEL={settings.tts_model}"
        )
    return Singer(found, chosen, singing_model, profile)


async def _fetch(links: SongLinks, link: SongLink, folder: Path) -> FetchedSong:
    with error_console.status(f"Fetching the song from {link.host}…"):
        fetched = await links.fetch(link.url, folder)
    length = f"{fetched.duration_s:.0f} s, " if fetched.duration_s is not None else ""
    console.print(
        f"Fetched {fetched.title!r} ({length}{fetched.size / 2**20:.1f} MB) from {fetched.host}.",
        markup=False,
        highlight=False,
    )
    return fetched


async def _sing(
    request: CoverRequest, song: Path, singer: Singer, settings: Settings, engine: VoiceEngine
) -> tuple[CoverResult, float]:
    singing = SingingParams(decoder_steps=settings.singing_decoder_steps, seed=COVER_SEED)
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=error_console,
        transient=True,
    ) as progress:
        result = await engine.cover(
            song,
            singer.profile,
            singing_model=singer.singing_model,
            method=singer.method,
            params=request.style.cover_params(
                output_format=request.output_format, max_bytes=LOCAL_MAX_BYTES
            ),
            conversion=request.style.conversion_params(),
            singing=singing,
            output=None,  # the cached file; copied to the person's path afterwards
            progress=StageBar(progress),
        )
    return result, time.perf_counter() - started


async def _make_cover(
    request: CoverRequest,
    link: SongLink | None,
    links: SongLinks,
    settings: Settings,
    engine: VoiceEngine,
    store: Store,
) -> tuple[CoverResult, Voice, float, float | None]:
    """The cover, the voice, the time taken and the fetched song's stated length. The voice
    and the models are checked before a song is fetched."""
    singer = await _singer(request, settings, engine, store)
    if link is None:
        result, elapsed = await _sing(request, Path(request.song), singer, settings, engine)
        return result, singer.voice, elapsed, None
    with tempfile.TemporaryDirectory(prefix="parrot-song-") as folder:
        fetched = await _fetch(links, link, Path(folder))
        result, elapsed = await _sing(request, fetched.path, singer, settings, engine)
    return result, singer.voice, elapsed, fetched.duration_s


def _deliver(result: CoverResult, wanted: Path) -> Path:
    """Copy the cached cover to ``wanted`` (``.opus`` stays ``.opus``); only if the engine
    had to change format does the suffix follow the format actually used."""
    target = wanted
    if COVER_FORMATS.get(wanted.suffix.lower()) is not result.format:
        target = wanted.with_suffix(result.path.suffix)
    atomic_copy(result.path, target)
    return target


def cover(
    ctx: typer.Context,
    song: str = typer.Argument(
        ..., help="The song: a file in any common audio format, or a link (PARROT_SONG_HOSTS)."
    ),
    voice: str = typer.Option(..., "--voice", "-v", help="Voice name or id."),
    output: Path = typer.Option(
        Path("cover.ogg"), "--output", "-o", help="Output file: .mp3, .ogg or .opus."
    ),
    pitch: int = typer.Option(0, help="Key change in semitones, -12 to 12 (whole song)."),
    method: SingingMethod = typer.Option(
        SingingMethod.AUTO,
        help="rvc needs a singing model; zero-shot sings from the voice's samples; "
        "auto picks rvc when the voice has one.",
    ),
    pitch_method: str = typer.Option("rmvpe", help="RVC pitch extractor: rmvpe, fcpe or pm."),
    index_rate: float = typer.Option(0.75, help="RVC: share of the index's features, 0 to 1."),
    protect: float = typer.Option(0.33, help="RVC: keeps consonants, 0 to 0.5 (0.5: off)."),
    vocal_gain: float = typer.Option(0.0, help="Vocal level in dB, -24 to 12."),
    instrumental_gain: float = typer.Option(0.0, help="Instrumental level in dB, -24 to 12."),
    reverb: float = typer.Option(0.15, help="Vocal reverb, 0 (dry) to 1."),
) -> None:
    """Sing SONG (a file or a link) in an enrolled voice and write the cover to a file."""
    settings = settings_from(ctx)

    async def body() -> None:
        # The checks that need neither torch, the database nor the network come first.
        request = CoverRequest(
            song,
            voice,
            method,
            checked_style(
                CoverStyle(
                    semitones=pitch,
                    pitch_method=pitch_method,
                    index_rate=index_rate,
                    protect=protect,
                    vocal_gain_db=vocal_gain,
                    instrumental_gain_db=instrumental_gain,
                    reverb=reverb,
                ),
                CLI_OPTIONS,
            ),
            _output_format(output),
        )
        links = song_links(settings)
        link = links.check(song) if looks_like_link(song) else None
        stated = None if link else _check_song(Path(song), settings)
        engine = build_engine(settings)
        try:
            async with open_store(settings) as store:
                result, found, elapsed, fetched = await _make_cover(
                    request, link, links, settings, engine, store
                )
                seconds = stated if link is None else fetched
                await store.generations.record(
                    kind="cover",
                    user_id=None,
                    guild_id=None,
                    voice_id=found.id,
                    input_seconds=seconds if seconds is not None else result.duration_s,
                    audio_seconds=result.duration_s,
                    elapsed_seconds=elapsed,
                    method=result.method,
                )
        except ParrotError as error:  # named after the option that set it, where one did
            fail(as_option(str(error), CLI_OPTIONS))
        finally:
            await engine.shutdown()
        path = await asyncio.to_thread(_deliver, result, output)
        cached = " (from the cache)" if "cover" in result.cache_hits else ""
        codec = FORMAT_NAMES.get(result.format, result.format.value)
        console.print(
            f"Wrote {result.duration_s:.1f} s to {path}{cached}: {result.method}, "
            f"{codec} {result.bitrate_kbps} kbps, in {elapsed:.1f} s "
            f"(real-time factor {elapsed / max(result.duration_s, 1e-6):.2f}).",
            markup=False,
            highlight=False,
        )
        for note in result.notes:
            console.print(f"Note: {note}", markup=False, highlight=False)

    run(body)


def singing_model(
    ctx: typer.Context,
    voice: str = typer.Argument(..., help="Voice name or id."),
    model: Path | None = typer.Argument(None, help="The RVC export (.pth)."),
    index: Path | None = typer.Argument(None, help="Its feature index (.index), optional."),
    remove: bool = typer.Option(False, "--remove", help="Detach the voice's singing model."),
) -> None:
    """Attach an RVC model (and index) to a voice, so that its covers use RVC."""
    settings = settings_from(ctx)

    async def body() -> None:
        if remove and model is not None:
            fail("give either a model to attach or --remove, not both")
        if not remove and model is None:
            fail("give the model file (.pth) to attach, or --remove to detach")
        for path in (model, index):
            if path is not None and not path.is_file():
                fail(f"no such file: {path}")
        async with open_store(settings) as store:
            found = await resolve_voice(store, voice)
            library = VoiceLibrary(store, settings.data_dir)
            if model is None:
                if await detach_singing_model(store, library, found, who=Who.cli()):
                    console.print(f"Detached the singing model of {found.name!r}.", markup=False)
                else:
                    console.print(f"{found.name!r} had no singing model.", markup=False)
                return
            engine = build_engine(settings)
            try:
                info = await attach_singing_model(
                    store, library, engine, found, model, index, who=Who.cli()
                )
            except (RvcCheckpointError, RvcIndexError) as error:
                fail(str(error))
            finally:
                await engine.shutdown()
        with_index = "with its index" if index is not None else "without an index"
        console.print(
            f"Attached {info} ({with_index}) to {found.name!r}: its covers now use RVC.",
            markup=False,
            highlight=False,
        )

    run(body)
