"""``parrot voices``: look at, remove, export and import voices."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli.common import (
    byte_progress,
    check_output_file,
    console,
    discord_id_option,
    fail,
    guarded,
    open_store,
    resolve_voice,
    run,
    settings_from,
)
from bot.cli.rebuild import rebuild
from bot.presets import ImportReport, PresetAction, preset_importer
from bot.runtime import build_engine, sample_limits
from bot.store.audit import Who
from bot.store.models import Consent, ConsentPath, Visibility, VoiceSource
from bot.voices.archive import VoiceArchive
from bot.voices.enrolment import VoiceEnroller
from bot.voices.files import VoiceLibrary
from bot.voices.removal import delete_voice

app = typer.Typer(help="Manage enrolled voices.", no_args_is_help=True)
app.command("rebuild")(rebuild)


@app.command("list")
def list_voices(
    ctx: typer.Context,
    owner: int | None = discord_id_option("Only voices of this Discord user id.", "--owner"),
    guild: int | None = discord_id_option("Only voices enrolled in this server id.", "--guild"),
) -> None:
    """List voices with their owner, visibility and state."""
    settings = settings_from(ctx)

    async def body() -> None:
        async with open_store(settings) as store:
            voices = await store.voices.list(owner_id=owner, guild_id=guild)
            sample_counts = {v.id: len(await store.voices.samples(v.id)) for v in voices}
        if not voices:
            console.print("No voices yet.")
            return
        table = Table("id", "name", "owner", "server", "visibility", "status", "samples", "created")
        for voice in voices:
            table.add_row(
                voice.id,
                voice.name,
                str(voice.owner_id or "-"),
                str(voice.guild_id or "-"),
                voice.visibility,
                voice.status,
                str(sample_counts[voice.id]),
                voice.created_at[:19],
            )
        console.print(table)

    run(body)


@app.command()
def show(ctx: typer.Context, voice: str = typer.Argument(..., help="Voice name or id.")) -> None:
    """Show one voice and its samples."""
    settings = settings_from(ctx)

    async def body() -> None:
        async with open_store(settings) as store:
            found = await resolve_voice(store, voice)
            samples = await store.voices.samples(found.id)
            training = store.training
            recordings = await training.recordings(found.id)
            trained = await training.trained_model(found.id)
        for label, value in (
            ("id", found.id),
            ("name", found.name),
            ("owner", found.owner_id),
            ("server", found.guild_id),
            ("visibility", found.visibility),
            ("source", found.source),
            ("status", found.status),
            ("detail", found.status_detail),
            ("tts model", found.tts_model),
            ("conditionals", found.conditionals),
            ("rvc model", found.rvc_model),
            ("rvc index", found.rvc_index),
            ("consent", describe_consent(found.consent)),
            ("created", found.created_at),
        ):
            console.print(f"{label:>13}: {value if value is not None else '-'}", markup=False)
        total = sum(sample.duration_s for sample in samples)
        console.print(f"{'samples':>13}: {len(samples)} ({total:.1f} s)")
        for sample in samples:
            console.print(
                f"{'':>15}{sample.id}  {sample.duration_s:6.1f} s  consent "
                f"{describe_consent(sample.consent)}  {sample.original_name or ''}",
                markup=False,
            )
        seconds = sum(recording.duration_s for recording in recordings)
        console.print(f"{'training':>13}: {len(recordings)} extra recording(s) ({seconds:.1f} s)")
        if trained is not None:
            attached = "attached" if trained.rvc_model == found.rvc_model else "replaced since"
            console.print(
                f"{'':>15}trained model: {trained.epochs} epochs on "
                f"{trained.seconds_of_audio:.0f} s, {trained.trained_at[:19]} ({attached})",
                markup=False,
            )
        console.print(f"{'':>15}(its history: parrot audit --voice {found.id})", markup=False)

    run(body)


@app.command()
def delete(
    ctx: typer.Context,
    voice: str = typer.Argument(..., help="Voice name or id."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a voice with all its samples and files."""
    settings = settings_from(ctx)

    async def body() -> None:
        async with open_store(settings) as store:
            found = await resolve_voice(store, voice)
            if not yes and not typer.confirm(
                f"Delete voice {found.name!r} ({found.id}) and all its files?"
            ):
                console.print("Nothing deleted.")
                raise typer.Exit(1)
            await delete_voice(store, VoiceLibrary(store, settings.data_dir), found, Who.cli())
        console.print(f"Deleted voice {found.name!r} ({found.id}).")

    run(body)


@app.command()
def export(
    ctx: typer.Context,
    voice: str = typer.Argument(..., help="Voice name or id."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Zip file to write."),
) -> None:
    """Export a voice (metadata, samples, derived files, training data) to a zip."""
    settings = settings_from(ctx)
    if output is not None:
        guarded(lambda: check_output_file(output, make_folders=True))

    async def body() -> None:
        async with open_store(settings) as store:
            found = await resolve_voice(store, voice)
            destination = output or Path(f"parrot-voice-{found.id}.zip")
            with byte_progress(f"Exporting {found.name}") as progress:
                library = VoiceLibrary(store, settings.data_dir)
                await VoiceArchive(store, library).export(found, destination, progress)
        console.print(f"Exported {found.name!r} to {destination}.")

    run(body)


@app.command("import")
def import_voice(
    ctx: typer.Context,
    archive: Path = typer.Argument(..., help="A zip made by `parrot voices export`."),
    name: str | None = typer.Option(None, help="Name for the imported voice."),
    owner: int | None = discord_id_option("Discord user id to own the voice.", "--owner"),
) -> None:
    """Import a voice from an export zip, as a new voice."""
    settings = settings_from(ctx)
    if not archive.is_file():
        raise_missing(archive)

    async def body() -> None:
        async with open_store(settings) as store:
            with byte_progress(f"Importing {archive.name}") as progress:
                library = VoiceLibrary(store, settings.data_dir)
                voice = await VoiceArchive(store, library).import_archive(
                    archive, name=name, owner_id=owner, progress=progress, who=Who.cli()
                )
        console.print(f"Imported {voice.name!r} as {voice.id} ({voice.status}).")

    run(body)


def describe_consent(consent: Consent | None) -> str:
    return consent.describe() if consent is not None else "none recorded"


def raise_missing(path: Path) -> None:
    guarded(lambda: fail(f"{path} does not exist or is not a file"))


@app.command()
def enroll(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Name of the new voice."),
    samples: list[Path] = typer.Argument(..., help="One or more audio files of the voice."),
    owner: int | None = discord_id_option("Discord user id who owns the voice.", "--owner"),
    guild: int | None = discord_id_option("Discord server id the voice belongs to.", "--guild"),
    visibility: Visibility | None = typer.Option(
        None, help="private, guild or global (default: private with --owner, else global)."
    ),
    consent: bool = typer.Option(
        False,
        "--consent",
        help="Required: you confirm that the person whose voice this is agreed to its cloning.",
    ),
) -> None:
    """Enrol a voice from audio files (any common format, a few seconds to minutes each).

    Needs --consent: you assert that the voice's owner agreed; it is recorded with the voice.
    """
    if not consent:
        guarded(
            lambda: fail(
                "enrolling needs --consent: confirm that the person whose voice this is "
                "agreed to have it cloned"
            )
        )
    settings = settings_from(ctx)
    for sample in samples:
        if not sample.is_file():
            raise_missing(sample)
    chosen = visibility or (Visibility.PRIVATE if owner is not None else Visibility.GLOBAL)

    async def body() -> None:
        engine = build_engine(settings)
        try:
            async with open_store(settings) as store:
                library = VoiceLibrary(store, settings.data_dir)
                enroller = VoiceEnroller(store, library, engine, sample_limits(settings))
                with console.status("Enrolling…") as status:
                    voice, prepared = await enroller.enroll(
                        name,
                        samples,
                        owner_id=owner,
                        guild_id=guild,
                        visibility=chosen,
                        source=VoiceSource.CLI,
                        consent=Consent.now(ConsentPath.CLI),
                        who=Who.cli(),
                        on_stage=lambda stage: status.update(f"Enrolling {name}: {stage}…"),
                    )
        finally:
            await engine.shutdown()
        total = sum(sample.duration_s for sample in prepared)
        console.print(
            f"Enrolled {voice.name!r} as {voice.id}: {len(prepared)} sample(s), {total:.1f} s."
        )
        for sample, source in zip(prepared, samples, strict=True):
            notes = "; ".join(sample.quality.notes)
            console.print(
                f"  {source.name}: {sample.duration_s:.1f} s, quality "
                f"{sample.quality.verdict}{' — ' + notes if notes else ''}",
                markup=False,
            )

    run(body)


@app.command("import-references")
def import_references(
    ctx: typer.Context,
    folder: Path | None = typer.Option(
        None, "--folder", help="The references folder (default: PARROT_REFERENCES_DIR)."
    ),
) -> None:
    """Import the preset voices in the references folder (unchanged files are skipped)."""
    settings = settings_from(ctx)
    if folder is not None:
        settings = settings.model_copy(update={"references_dir": folder})

    async def body() -> ImportReport:
        engine = build_engine(settings)
        try:
            async with open_store(settings) as store:
                importer = preset_importer(store, engine, settings)
                with console.status("Reading the references folder…") as status:
                    return await importer.import_all(
                        on_stage=lambda name, stage: status.update(f"{name}: {stage}…")
                    )
        finally:
            await engine.shutdown()

    report = run(body)
    if not report.folder_exists:
        guarded(lambda: fail(f"the references folder {report.folder} does not exist"))
    if report.outcomes:
        table = Table("voice", "file", "result", "detail")
        colours = {PresetAction.FAILED: "red", PresetAction.SKIPPED: "yellow"}
        for outcome in report.outcomes:
            colour = colours.get(outcome.action, "green")
            table.add_row(
                escape(outcome.name),
                escape(outcome.source),
                f"[{colour}]{outcome.action}[/]",
                escape(outcome.detail),
            )
        console.print(table)
    console.print(f"References in {report.folder}: {report.summary()}.", markup=False)
    if report.failed:
        names = ", ".join(outcome.name for outcome in report.failed)
        guarded(lambda: fail(f"{len(report.failed)} reference(s) could not be imported: {names}"))
