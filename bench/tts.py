"""Time to first audio, real-time factor, and Parrot's overhead over bare Chatterbox.

    .venv/bin/python -m bench.tts                  # random-weight test checkpoint on CPU
    .venv/bin/python -m bench.tts --weights DIR    # real weights (a folder of the hub files)
    .venv/bin/python -m bench.tts --device cuda
    .venv/bin/python -m bench.tts --full-t3        # random weights, production T3 depth

On a machine without espeak-ng, pass ``--reference clip.wav``; without the ffmpeg
binary, add ``--without-ffmpeg`` (the WAV is read with soundfile and enrolled through
``Engine.build_profile``: the same cleanup and checks, minus the ffmpeg decode).

Both paths run on the same loaded model in the same process, with the same seeds,
text chunks and token caps, so they do the same model work: the difference is what
Parrot adds (chunking, executor hop, queueing, conditionals cache, tail trim).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

if TYPE_CHECKING:
    from engine.engine import Engine, SampleLimits
    from engine.tts.profile import PreparedSample, VoiceProfile

TEXT = (
    "Parrot turns text into speech in your own voice. "
    "The first sentence plays while the next one is still being generated. "
    "That is why the first words arrive quickly."
)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--weights", type=Path, help="folder with real Chatterbox weights")
    weights.add_argument(
        "--full-t3",
        action="store_true",
        help="random weights with the production T3 depth (the real model's per-token cost); "
        "built once into the test checkpoint cache (about 3 GB)",
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=None,
        help="speech tokens per chunk (default: 12 on random weights, "
        "Parrot's text-derived budget on real ones)",
    )
    parser.add_argument("--decoder-steps", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch threads on CPU")
    parser.add_argument(
        "--reference", type=Path, help="voice clip to enrol (default: one spoken by espeak-ng)"
    )
    parser.add_argument(
        "--without-ffmpeg",
        action="store_true",
        help="read the reference WAV with soundfile and enrol it through Engine.build_profile, "
        "for machines without the ffmpeg binary",
    )
    return parser.parse_args()


@contextlib.contextmanager
def model_folder(args: argparse.Namespace) -> Iterator[tuple[Path, str]]:
    """A PARROT_MODELS_DIR holding ``chatterbox``: real weights or the random checkpoint."""
    with tempfile.TemporaryDirectory() as temporary:
        models = Path(temporary) / "models"
        models.mkdir()
        if args.weights:
            (models / "chatterbox").symlink_to(args.weights.resolve())
            yield models, "real weights"
            return
        from tests.checkpoints.chatterbox import T3_LAYERS, chatterbox_checkpoint, shrunk_t3

        if args.full_t3:
            from chatterbox.models.t3.llama_configs import LLAMA_CONFIGS

            (models / "chatterbox").symlink_to(full_depth_checkpoint())
            layers = LLAMA_CONFIGS["Llama_520M"]["num_hidden_layers"]
            yield models, f"random weights, T3 {layers} layers (full depth)"
            return

        with shrunk_t3():
            (models / "chatterbox").symlink_to(chatterbox_checkpoint())
            yield models, f"random weights, T3 {T3_LAYERS} layers"


def full_depth_checkpoint() -> Path:
    """A random checkpoint of production size, cached beside the test checkpoints (3 GB)."""
    from tests.checkpoints.cache import build_once, versions_key
    from tests.checkpoints.chatterbox import write_full_size

    key = versions_key("chatterbox-tts", "torch", "transformers", "tokenizers", extra="t3=full")
    return build_once("chatterbox-random-full", key, write_full_size)


def bare_generate(
    model: Any, text: str, seed: int, max_tokens: int | None, decoder_steps: int | None
) -> float:
    """``ChatterboxTTS.generate`` as a user would call it, capped like Parrot's chunk."""
    import torch

    original_t3, original_s3 = model.t3.inference, model.s3gen.inference

    def capped_t3(*a: Any, **k: Any) -> Any:
        if max_tokens is not None:
            k["max_new_tokens"] = max_tokens
        return original_t3(*a, **k)

    def stepped_s3(*a: Any, **k: Any) -> Any:
        if decoder_steps is not None:
            k["n_cfm_timesteps"] = decoder_steps
        return original_s3(*a, **k)

    model.t3.inference, model.s3gen.inference = capped_t3, stepped_s3
    try:
        torch.manual_seed(seed)
        started = time.perf_counter()
        model.generate(text)
        return time.perf_counter() - started
    finally:
        model.t3.inference, model.s3gen.inference = original_t3, original_s3


def speak_reference(folder: Path) -> Path:
    """A few seconds of real speech from espeak-ng."""
    reference = folder / "reference.wav"
    text = "This is the reference voice for the benchmark, a few seconds long."
    subprocess.run(["espeak-ng", "-w", str(reference), text], check=True)
    return reference


def prepare_wav(source: Path, destination: Path, limits: SampleLimits) -> PreparedSample:
    """``prepare_voice_sample``'s steps on a WAV read by soundfile instead of ffmpeg."""
    import soundfile

    from engine.audio import (
        Audio,
        check_voice_sample,
        normalize_loudness,
        remove_dc,
        resample,
        trim_silence,
    )
    from engine.voices import store_prepared_sample

    samples, rate = soundfile.read(source, dtype="float32", always_2d=True)
    audio = resample(Audio(samples.mean(axis=1), int(rate)), 24_000)
    audio = trim_silence(remove_dc(audio))
    report = check_voice_sample(
        audio, min_seconds=limits.min_seconds, max_seconds=limits.max_seconds
    )
    return store_prepared_sample(normalize_loudness(audio), report, destination)


async def enrol(
    engine: Engine, folder: Path, reference: Path, without_ffmpeg: bool
) -> VoiceProfile:
    """The voice's profile: through ``Engine.enroll``, or its ffmpeg-free equivalent."""
    from engine.engine import SampleLimits

    limits = SampleLimits(min_seconds=1.0)
    if not without_ffmpeg:
        profile, _ = await engine.enroll(folder, [reference], limits)
        return profile
    destination = folder / "samples" / "000.wav"
    sample = await asyncio.to_thread(prepare_wav, reference, destination, limits)
    return await engine.build_profile(folder, [sample])


def device_label(backend: Any, requested: str) -> str:
    """Where the model's weights actually are, with the GPU's name."""
    import torch

    where = str(next(backend.model.t3.parameters()).device)
    if where.startswith("cuda"):
        where += f" ({torch.cuda.get_device_name(torch.device(where))})"
    return where if where.startswith(requested) else f"{where}, asked for {requested}"


async def main() -> None:
    args = parse()
    import torch

    torch.set_num_threads(args.threads)
    from engine.config import EngineConfig
    from engine.engine import Engine
    from engine.tts import SpeechParams

    max_tokens = args.max_tokens if (args.max_tokens or args.weights) else 12
    steps = args.decoder_steps if (args.decoder_steps or args.weights) else 2
    with model_folder(args) as (models, label), tempfile.TemporaryDirectory() as work:
        reference = args.reference or await asyncio.to_thread(speak_reference, Path(work))
        engine = Engine(
            EngineConfig(
                data_dir=Path(work),
                device=args.device,
                models_dir=models,
                torch_threads=args.threads,
            )
        )
        started = time.perf_counter()
        profile = await enrol(engine, Path(work) / "voice", reference, args.without_ffmpeg)
        enrol_s = time.perf_counter() - started
        # Warm-up with the measured settings: it yields the chunk texts, and compiles the
        # kernels for these shapes. One token was too few: random weights may make it a
        # special token, and S3Gen fails on an empty token sequence.
        warm_up = SpeechParams(max_tokens_per_chunk=max_tokens, decoder_steps=steps, seed=0)
        chunks_text = [c async for c in engine.speak(profile, TEXT, warm_up)]

        parrot_first, parrot_total, audio_s, bare_first, bare_total = [], [], [], [], []
        assert engine._backend is not None
        backend: Any = engine._backend
        where = device_label(backend, args.device)

        async def parrot_run(seed: int) -> None:
            params = SpeechParams(max_tokens_per_chunk=max_tokens, decoder_steps=steps, seed=seed)
            started = time.perf_counter()
            first = None
            seconds = 0.0
            async for chunk in engine.speak(profile, TEXT, params):
                first = first or time.perf_counter() - started
                seconds += chunk.duration
            parrot_total.append(time.perf_counter() - started)
            parrot_first.append(first or 0.0)
            audio_s.append(seconds)

        async def bare_run(seed: int) -> None:
            model = backend.model
            model.conds = backend.load_conditionals(profile.conditionals)
            times = []
            for index, chunk in enumerate(chunks_text):
                times.append(
                    await asyncio.to_thread(
                        bare_generate, model, chunk.text, seed + index, max_tokens, steps
                    )
                )
            model.conds = None
            bare_first.append(times[0])
            bare_total.append(sum(times))

        for run in range(args.runs):  # alternate the order: neither side always goes first
            seed = 100 + 10 * run
            order = (parrot_run, bare_run) if run % 2 == 0 else (bare_run, parrot_run)
            for measure in order:
                await measure(seed)
        await engine.shutdown()

    med = statistics.median
    overhead_first = med(parrot_first) - med(bare_first)
    print(
        f"\nParrot TTS bench: {label}, device {where}, torch threads {args.threads}, "
        f"{len(chunks_text)} chunks, {args.runs} runs (medians)"
    )
    print(
        f"tokens per chunk: {max_tokens or 'Parrot budget'}, decoder steps: {steps or 'default'}"
        f", enrolment: {enrol_s:.2f} s"
        f"{' (WAV read by soundfile, no ffmpeg)' if args.without_ffmpeg else ''}\n"
    )
    rows = [
        ("time to first chunk", f"{med(parrot_first):.3f} s", f"{med(bare_first):.3f} s"),
        ("total time", f"{med(parrot_total):.3f} s", f"{med(bare_total):.3f} s"),
        ("audio produced", f"{med(audio_s):.2f} s", "same work"),
        ("real-time factor", f"{med(parrot_total) / max(med(audio_s), 1e-9):.2f}", ""),
        (
            "overhead before first chunk",
            f"{overhead_first * 1000:+.0f} ms",
            f"{overhead_first / med(bare_first) * 100:+.1f} %",
        ),
        (
            "overhead in total",
            f"{(med(parrot_total) - med(bare_total)) * 1000:+.0f} ms",
            f"{(med(parrot_total) / med(bare_total) - 1) * 100:+.1f} %",
        ),
    ]
    print(f"| {'measure':<28} | {'Parrot':>12} | {'bare chatterbox':>16} |")
    print(f"|{'-' * 30}|{'-' * 14}|{'-' * 18}|")
    for name, ours, theirs in rows:
        print(f"| {name:<28} | {ours:>12} | {theirs:>16} |")


if __name__ == "__main__":
    asyncio.run(main())
