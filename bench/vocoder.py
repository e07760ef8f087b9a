"""Streaming S3Gen: one-shot against pieces, first-piece latency, batched against serial.

    .venv/bin/python -m bench.vocoder                    # random-weight S3Gen on the CPU
    .venv/bin/python -m bench.vocoder --meanflow         # Turbo's mean-flow S3Gen
    .venv/bin/python -m bench.vocoder --device cuda --steps 10 --reference-seconds 10

S3Gen (264 M parameters) is built with random weights: its cost does not depend on the
weights' values. The reference is a synthetic voiced tone embedded by ``embed_ref``; the
speech tokens are random. Each figure is the median over ``--runs``; the two sides of a
comparison alternate which goes first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

if TYPE_CHECKING:
    from engine.tts.vocoder import S3GenStream

SAMPLE_RATE = 24_000


def speech_tokens(count: int, seed: int) -> list[int]:
    from tests.engine.vocoder_support import speech_tokens as random_tokens  # deferred: torch

    return random_tokens(count, seed)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2, help="torch threads on the CPU")
    parser.add_argument("--steps", type=int, default=None, help="flow steps (default 2)")
    parser.add_argument("--tokens", type=int, default=100, help="utterance length (25 per s)")
    parser.add_argument("--reference-seconds", type=float, default=4.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--streams", default="1,2,4", help="stream counts for batching")
    parser.add_argument("--meanflow", action="store_true", help="Turbo's S3Gen")
    return parser.parse_args()


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def synchronise(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def vocode(
    s3gen: Any, jobs: Sequence[tuple[S3GenStream, Sequence[int], bool]], **options: Any
) -> Any:
    from engine.tts.vocoder import vocode_pieces  # deferred: imports torch

    return vocode_pieces(s3gen, jobs, **options)


class Bench:
    def __init__(self, args: argparse.Namespace, s3gen: Any, reference: dict[str, Any]) -> None:
        from engine.tts.vocoder import StreamSchedule  # deferred: imports torch

        self.args = args
        self.s3gen = s3gen
        self.reference = reference
        self.steps = args.steps or 2
        self.schedule = StreamSchedule()

    def stream(self, seed: int) -> S3GenStream:
        from engine.tts.vocoder import S3GenStream  # deferred: imports torch

        return S3GenStream(self.s3gen, self.reference, steps=self.steps, seed=seed)

    def call(self, jobs: Sequence[tuple[S3GenStream, Sequence[int], bool]], batched: bool) -> float:
        def run() -> None:
            vocode(self.s3gen, jobs, batched=batched)
            synchronise(self.args.device)

        return timed(run)

    def one_shot(self, tokens: list[int]) -> float:
        import torch

        def run() -> None:
            self.s3gen.inference(
                speech_tokens=torch.tensor(tokens, device=self.args.device)[None],
                ref_dict=self.reference,
                n_cfm_timesteps=self.steps,
            )
            synchronise(self.args.device)

        return timed(run)

    def streamed(self, tokens: list[int], seed: int) -> tuple[float, float, float, list[int]]:
        """(all pieces, the first piece, the first piece's audio in seconds, the token
        counts at which pieces ran)."""
        stream, times, first_audio, counts = self.stream(seed), [], 0.0, []
        for count in range(1, len(tokens) + 1):
            finished = count == len(tokens)
            if stream.wants_piece(count, finished):
                started = time.perf_counter()
                (audio,) = vocode(self.s3gen, [(stream, tokens[:count], finished)])
                synchronise(self.args.device)
                times.append(time.perf_counter() - started)
                counts.append(count)
                first_audio = first_audio or audio.size / SAMPLE_RATE
        return sum(times), times[0], first_audio, counts

    def pieces(self, count: int, later: bool, batched: bool, seed: int) -> float:
        """One call's time for ``count`` streams' first pieces (at 25 tokens), or for their
        second pieces when ``later`` (at 75 tokens: the 20 tokens the first piece made
        final come back as context, 52 tokens get new mel, 3 are look-ahead)."""
        first = self.schedule.first_tokens
        streams = [self.stream(seed + index) for index in range(count)]
        tokens = [
            speech_tokens(first + self.schedule.piece_tokens, seed + index)
            for index in range(count)
        ]
        if later:
            vocode(
                self.s3gen, [(s, t[:first], False) for s, t in zip(streams, tokens, strict=True)]
            )
        size = len(tokens[0]) if later else first
        return self.call(
            [(s, t[:size], False) for s, t in zip(streams, tokens, strict=True)], batched
        )


def main() -> None:
    args = parse()
    import torch
    from chatterbox.models.s3gen import S3Gen

    from tests.engine.vocoder_support import synthetic_reference

    torch.set_num_threads(args.threads)
    torch.manual_seed(1234)
    s3gen = S3Gen(meanflow=args.meanflow).to(args.device).eval()
    reference = synthetic_reference(s3gen, args.reference_seconds)
    bench = Bench(args, s3gen, reference)
    tokens = speech_tokens(args.tokens, seed=3)
    bench.streamed(tokens[:30], seed=0)  # warm-up: first calls allocate and pick kernels
    med = statistics.median

    one_shot, single, streamed, first, first_audio = [], [], [], [], []
    piece_counts: list[int] = []
    for run in range(args.runs):
        order = [0, 1, 2] if run % 2 == 0 else [2, 1, 0]
        for which in order:
            if which == 0:
                one_shot.append(bench.one_shot(tokens))
            elif which == 1:
                stream = bench.stream(run)
                single.append(bench.call([(stream, tokens, True)], batched=True))
            else:
                total, latency, audio, piece_counts = bench.streamed(tokens, seed=run)
                streamed.append(total)
                first.append(latency)
                first_audio.append(audio)

    counts = [int(value) for value in args.streams.split(",")]
    batching: dict[tuple[int, bool], tuple[list[float], list[float]]] = {}
    for run in range(args.runs):
        for count in counts:
            for later in (False, True):
                serial, together = batching.setdefault((count, later), ([], []))
                for batched in (run % 2 == 0, run % 2 != 0):
                    spent = bench.pieces(count, later, batched, seed=100 * run)
                    (together if batched else serial).append(spent)

    seconds = args.tokens / 25
    device = args.device
    if device.startswith("cuda"):
        device += f" ({torch.cuda.get_device_name(torch.device(device))})"
    variant = "mean-flow (Turbo)" if args.meanflow else "regular"
    print(
        f"\nStreaming S3Gen bench: {variant} S3Gen, random weights, device {device}, "
        f"torch threads {args.threads}, {bench.steps} flow steps, reference "
        f"{args.reference_seconds:.1f} s, {args.runs} runs (medians)\n"
    )
    print(f"One utterance of {args.tokens} tokens ({seconds:.1f} s of audio):\n")
    print(f"| {'decoding':<44} | {'time':>8} | {'real-time factor':>16} |")
    print(f"|{'-' * 46}|{'-' * 10}|{'-' * 18}|")
    rows = [
        ("one-shot (Chatterbox s3gen.inference)", med(one_shot)),
        ("one piece (vocode_pieces, finished at once)", med(single)),
        (f"streamed, all pieces (at {', '.join(map(str, piece_counts))} tokens)", med(streamed)),
    ]
    for name, spent in rows:
        print(f"| {name:<44} | {spent:>6.2f} s | {spent / seconds:>16.2f} |")
    print(
        f"| {'streamed, first piece (at 25 tokens)':<44} | {med(first):>6.2f} s | "
        f"{'audio ' + format(med(first_audio), '.2f') + ' s':>16} |"
    )
    print("\nOne vocode_pieces call for N streams' pieces, serial against batched:\n")
    print(f"| {'pieces':<42} | {'N':>2} | {'serial':>8} | {'batched':>8} | {'speed-up':>8} |")
    print(f"|{'-' * 44}|{'-' * 4}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for later in (False, True):
        name = "second (at 75 tokens, 52 new + 20 context)" if later else "first (at 25 tokens)"
        for count in counts:
            serial, together = batching[(count, later)]
            print(
                f"| {name:<42} | {count:>2} | {med(serial):>6.2f} s | {med(together):>6.2f} s "
                f"| {med(serial) / med(together):>7.2f}x |"
            )


if __name__ == "__main__":
    main()
