"""``parrot voices rebuild [--all | VOICE]``: rebuild voices for the configured TTS model
from their stored samples, with a progress bar; what the bot does by itself at start-up
after ``PARROT_TTS_MODEL`` changed."""

from __future__ import annotations

import typer

from bot.cli.common import (
    console,
    counting_progress,
    error_console,
    fail,
    open_store,
    reports_errors,
    resolve_voice,
    run,
    settings_from,
)
from bot.runtime import build_engine
from bot.store.audit import Who
from bot.store.models import Voice
from bot.voices.files import VoiceLibrary
from bot.voices.rebuild import REBUILDABLE, RebuildReport, VoiceRebuilder


@reports_errors
def rebuild(
    ctx: typer.Context,
    voice: str | None = typer.Argument(
        None, help="Voice name or id (default: every voice missing conditionals)."
    ),
    every: bool = typer.Option(
        False, "--all", help="Every voice with samples, even those already built."
    ),
) -> None:
    """Rebuild voices for the configured TTS model from their stored samples.

    Default: the voices with no conditionals for it (failed ones are tried again).

    Conditionals of other models are kept: switching back needs no rebuild.
    """
    if voice is not None and every:
        fail("give a voice or --all, not both")
    settings = settings_from(ctx)

    async def body() -> RebuildReport:
        engine = build_engine(settings)
        try:
            async with open_store(settings) as store:
                library = VoiceLibrary(store, settings.data_dir)
                rebuilder = VoiceRebuilder(store, library, engine, Who.cli())
                force = voice is not None or every
                if voice is not None:
                    ids = await rebuilder.queue([_rebuildable(await resolve_voice(store, voice))])
                elif every:
                    ids = await rebuilder.queue(await store.voices.rebuildable())
                else:
                    ids = await rebuilder.queue_missing(retry_failed=True)
                if not ids:
                    return RebuildReport(rebuilder.tts_model)
                await engine.check_model_available()  # one line, before the bar
                return await _run_with_progress(rebuilder, ids, force=force)
        finally:
            await engine.shutdown()

    report = run(body)
    if not report.outcomes:
        console.print(f"Every voice already has conditionals for {report.tts_model}.")
        return
    if report.failed:
        reasons = "; ".join(f"{o.voice.name} ({o.detail})" for o in report.failed)
        fail(
            f"{len(report.failed)} of {len(report.outcomes)} voice(s) could not be rebuilt "
            f"for {report.tts_model}: {reasons}"
        )
    console.print(f"Rebuilt {len(report.rebuilt)} voice(s) for {report.tts_model}.")


def _rebuildable(voice: Voice) -> Voice:
    if voice.status not in REBUILDABLE:
        fail(f"voice {voice.name!r} is {voice.status}: there is nothing to rebuild")
    return voice


async def _run_with_progress(
    rebuilder: VoiceRebuilder, ids: list[str], *, force: bool
) -> RebuildReport:
    with counting_progress(error_console) as progress:
        task = progress.add_task(f"rebuilding for {rebuilder.tts_model}", total=len(ids))

        def started(voice: Voice) -> None:
            progress.update(task, description=f"rebuilding {voice.name}")

        return await rebuilder.run(
            ids, force=force, on_voice=started, on_outcome=lambda _: progress.advance(task)
        )
