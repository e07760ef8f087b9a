"""``parrot say``: speak text in an enrolled voice to a file, without Discord."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from bot.cli.common import (
    check_output_file,
    console,
    counting_progress,
    fail,
    guarded,
    open_store,
    resolve_voice,
    run,
    settings_from,
)
from bot.runtime import build_engine
from bot.store.models import VoiceStatus
from bot.voices.files import VoiceLibrary
from engine.api import AudioFormat, SpeechParams, encode

FORMATS = {
    ".wav": AudioFormat.WAV,
    ".ogg": AudioFormat.OGG_OPUS,
    ".opus": AudioFormat.OGG_OPUS,
    ".mp3": AudioFormat.MP3,
}


def check_request(text: str, output: Path, max_chars: int) -> AudioFormat:
    """Refuse what cannot be said or written before any model loads; the output's format."""
    audio_format = FORMATS.get(output.suffix.lower())
    if audio_format is None:
        fail(
            f"cannot write {output.suffix or 'files without a suffix'}: "
            "use .wav, .ogg, .opus or .mp3"
        )
    if not text.strip():
        fail("give the text to say (it is empty)")
    if not any(character.isalnum() for character in text):
        fail(f"there is nothing to say aloud in {text!r}: give it words")
    if len(text) > max_chars:
        fail(
            f"the text is {len(text)} characters; the limit is {max_chars} (PARROT_MAX_TEXT_CHARS)"
        )
    check_output_file(output, make_folders=False)
    return audio_format


def say(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="What to say."),
    voice: str = typer.Option(..., "--voice", "-v", help="Voice name or id."),
    output: Path = typer.Option(
        Path("parrot.wav"), "--output", "-o", help="Output file: .wav, .ogg/.opus or .mp3."
    ),
    seed: int | None = typer.Option(None, help="Same seed, text and voice: same audio."),
    exaggeration: float = typer.Option(0.5, help="Expressiveness, 0 to 2."),
    cfg_weight: float = typer.Option(0.5, help="Guidance weight, above 0 up to 1."),
    temperature: float = typer.Option(0.8, help="Sampling temperature, above 0 up to 2."),
    decoder_steps: int | None = typer.Option(None, help="S3Gen steps (fewer: faster, rougher)."),
    max_tokens: int | None = typer.Option(None, help="Cap on speech tokens per sentence."),
    language: str | None = typer.Option(None, help="Language code (multilingual model)."),
) -> None:
    """Speak TEXT in an enrolled voice and write it to a file."""
    settings = settings_from(ctx)
    audio_format = guarded(lambda: check_request(text, output, settings.max_text_chars))

    async def body() -> None:
        params = SpeechParams(
            exaggeration=exaggeration,
            cfg_weight=cfg_weight,
            temperature=temperature,
            seed=seed,
            decoder_steps=decoder_steps,
            max_tokens_per_chunk=max_tokens,
            language=language,
        )
        engine = build_engine(settings)
        try:
            async with open_store(settings) as store:
                found = await resolve_voice(store, voice)
                if found.status is not VoiceStatus.READY:
                    fail(f"voice {found.name!r} is {found.status}, not ready")
                profile = engine.profile(VoiceLibrary(store, settings.data_dir).folder(found.id))
                if not profile.exists:
                    fail(
                        f"voice {found.name!r} has no conditionals for {profile.backend}: "
                        f"enrol it again with PARROT_TTS_MODEL={settings.tts_model}"
                    )
                started = time.perf_counter()
                with counting_progress() as progress:
                    task = progress.add_task("Speaking", total=engine.count_chunks(text))
                    audio = await engine.synthesize(
                        profile,
                        text,
                        params,
                        on_chunk=lambda _chunk, done: progress.update(task, completed=done),
                    )
                elapsed = time.perf_counter() - started
                await store.generations.record(
                    kind="speech",
                    user_id=None,
                    guild_id=None,
                    voice_id=found.id,
                    characters=len(text),
                    audio_seconds=audio.duration,
                    elapsed_seconds=elapsed,
                    method=profile.backend,
                )
        finally:
            await engine.shutdown()
        encode(audio, output, audio_format)
        console.print(
            f"Wrote {audio.duration:.1f} s to {output} in {elapsed:.1f} s "
            f"(real-time factor {elapsed / max(audio.duration, 1e-6):.2f})."
        )

    run(body)
