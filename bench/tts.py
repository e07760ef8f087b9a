"""Time to first audio, real-time factor, and Parrot's overhead over bare Chatterbox.

    .venv/bin/python -m bench.tts                  # random-weight test checkpoint on CPU
    .venv/bin/python -m bench.tts --weights DIR    # real weights (a folder of the hub files)
    .venv/bin/python -m bench.tts --device cuda

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
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TEXT = (
    "Parrot turns text into speech in your own voice. "
    "The first sentence plays while the next one is still being generated. "
    "That is why the first words arrive quickly."
)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--weights", type=Path, help="folder with real Chatterbox weights")
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

        with shrunk_t3():
            (models / "chatterbox").symlink_to(chatterbox_checkpoint())
            yield models, f"random weights, T3 {T3_LAYERS} layers"


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


async def main() -> None:
    args = parse()
    import torch

    torch.set_num_threads(args.threads)
    from engine.config import EngineConfig
    from engine.engine import Engine, SampleLimits
    from engine.tts import SpeechParams

    max_tokens = args.max_tokens if (args.max_tokens or args.weights) else 12
    steps = args.decoder_steps if (args.decoder_steps or args.weights) else 2
    with model_folder(args) as (models, label), tempfile.TemporaryDirectory() as work:
        reference = Path(work) / "reference.wav"
        await asyncio.to_thread(
            subprocess.run,
            [
                "espeak-ng",
                "-w",
                str(reference),
                "This is the reference voice for the benchmark, a few seconds long.",
            ],
            check=True,
        )
        engine = Engine(
            EngineConfig(
                data_dir=Path(work),
                device=args.device,
                models_dir=models,
                torch_threads=args.threads,
            )
        )
        started = time.perf_counter()
        profile, _ = await engine.enroll(
            Path(work) / "voice", [reference], SampleLimits(min_seconds=1.0)
        )
        enrol_s = time.perf_counter() - started
        chunks_text = [
            c
            async for c in engine.speak(
                profile, TEXT, SpeechParams(max_tokens_per_chunk=1, decoder_steps=1, seed=0)
            )
        ]

        parrot_first, parrot_total, audio_s, bare_first, bare_total = [], [], [], [], []
        assert engine._backend is not None
        backend: Any = engine._backend

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
        f"\nParrot TTS bench: {label}, device {args.device}, torch threads {args.threads}, "
        f"{len(chunks_text)} chunks, {args.runs} runs (medians)"
    )
    print(
        f"tokens per chunk: {max_tokens or 'Parrot budget'}, decoder steps: {steps or 'default'}"
        f", enrolment: {enrol_s:.2f} s\n"
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
