"""Many servers speaking at once: the batched speech engine against the serial path.

    .venv/bin/python -m bench.concurrency --full-t3          # CPU, production T3 depth
    .venv/bin/python -m bench.concurrency                    # 2-layer test checkpoint
    .venv/bin/python -m bench.concurrency --weights DIR --device cuda --sizes 1,4,16,32

N concurrent two-sentence texts, each its own voice (as each server would have), go
through ``Engine.speak`` at once. Both engines share one loaded backend (the same
weights), seeds, texts and token caps, so they do the same model work; only the
scheduling differs. Random weights never emit the stop token, so every sentence runs
to its cap and both paths make the same number of tokens.

Columns: first audio (p50, max) from the moment all N were asked; the slowest stream's
speed (audio seconds per wall second; above 1 plays without waiting); aggregate audio
seconds per wall second; aggregate speech tokens per second (audio seconds × 25). The
last line is how long a text waited behind an enrolment, the longest lower-priority
job on the executor in this run.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.tts import device_label, enrol, model_folder  # noqa: E402

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.tts.params import SpeechParams
    from engine.tts.profile import VoiceProfile

TOKENS_PER_SECOND = 25


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--weights", type=Path, help="folder with real Chatterbox weights")
    weights.add_argument("--full-t3", action="store_true", help="random, production T3 depth")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2, help="torch threads on CPU")
    parser.add_argument("--sizes", default="1,2,4,8,16", help="concurrent texts per round")
    parser.add_argument("--modes", default="batched,serial", help="batched, serial or both")
    parser.add_argument("--tokens", type=int, default=25, help="speech tokens per sentence")
    parser.add_argument("--first-audio-tokens", type=int, default=10)
    parser.add_argument("--decoder-steps", type=int, default=2)
    parser.add_argument("--dtype", default="float32", help="float32 or bfloat16 (batched)")
    parser.add_argument("--without-ffmpeg", action="store_true")
    return parser.parse_args()


@dataclasses.dataclass
class Round:
    mode: str
    streams: int
    wall: float
    first_audio: list[float]
    stream_speed: list[float]
    audio_seconds: float

    def row(self) -> str:
        p50 = statistics.median(self.first_audio)
        aggregate = self.audio_seconds / self.wall
        tokens = aggregate * TOKENS_PER_SECOND
        return (
            f"| {self.mode} | {self.streams} | {p50:.2f} s | {max(self.first_audio):.2f} s "
            f"| {min(self.stream_speed):.2f}× | {aggregate:.2f}× | {tokens:.1f} |"
        )


def voice_clips(folder: Path, count: int) -> list[Path]:
    """``count`` different speakers from espeak-ng (pitch and speed vary)."""
    clips = []
    for index in range(count):
        clip = folder / f"voice{index}.wav"
        text = f"This is speaker number {index + 1}, reading a few words for the benchmark."
        pitch, speed = str(20 + (index * 37) % 70), str(140 + (index * 13) % 40)
        subprocess.run(["espeak-ng", "-p", pitch, "-s", speed, "-w", str(clip), text], check=True)
        clips.append(clip)
    return clips


async def one_round(
    engine: Engine, mode: str, profiles: list[VoiceProfile], params: SpeechParams
) -> Round:
    started = time.perf_counter()

    async def stream(index: int, profile: VoiceProfile) -> tuple[float, float, float]:
        text = f"Server {index} has something to say. It says it twice over."
        first = 0.0
        seconds = 0.0
        async for chunk in engine.speak(profile, text, params.with_seed(index)):
            if not first:
                first = time.perf_counter() - started
            seconds += chunk.duration
        return first, time.perf_counter() - started, seconds

    results = await asyncio.gather(*(stream(i, p) for i, p in enumerate(profiles)))
    wall = time.perf_counter() - started
    return Round(
        mode,
        len(profiles),
        wall,
        [first for first, _, _ in results],
        [seconds / done for _, done, seconds in results],
        sum(seconds for _, _, seconds in results),
    )


async def wait_behind_enrolment(
    engine: Engine, profile: VoiceProfile, params: SpeechParams, work: Path, clip: Path
) -> tuple[float, float]:
    """First audio of a text asked for while an enrolment runs, and the longest job."""
    from engine.executor import Priority

    executor = await engine._started()
    executor.longest_job.clear()  # the first enrolments also loaded the model
    enrolment = asyncio.ensure_future(enrol(engine, work / "late-voice", clip, False))
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    first = 0.0
    async for _ in engine.speak(profile, "Waiting my turn.", params):
        first = first or time.perf_counter() - started
    await enrolment
    return first, executor.longest_job.get(Priority.ENROLMENT, 0.0)


async def main() -> None:
    args = parse()
    import torch

    from engine.config import EngineConfig, SpeechDtype, SpeechScheduling
    from engine.engine import Engine
    from engine.tts.chatterbox import ChatterboxBackend
    from engine.tts.params import SpeechParams

    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    sizes = [int(size) for size in args.sizes.split(",")]
    modes = args.modes.split(",")
    params = SpeechParams(
        max_tokens_per_chunk=args.tokens, decoder_steps=args.decoder_steps, seed=0
    )
    with model_folder(args) as (models, label), tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        config = EngineConfig(
            data_dir=work / "data",
            device=args.device,
            models_dir=models,
            torch_threads=args.threads if args.device == "cpu" else 0,
            max_speech_batch=max(sizes),
            first_audio_tokens=args.first_audio_tokens,
            speech_dtype=SpeechDtype(args.dtype),
        )
        backend = ChatterboxBackend(config, args.device)

        def shared(_config: EngineConfig, _device: str) -> Any:
            return backend

        engines = {
            "batched": Engine(config, backend_factory=shared),
            "serial": Engine(
                dataclasses.replace(config, speech_scheduling=SpeechScheduling.SERIAL),
                backend_factory=shared,
            ),
        }
        clips = voice_clips(work, max(sizes))
        enrolling = engines[modes[0]]
        profiles = [
            await enrol(enrolling, work / f"voice{n}", clip, args.without_ffmpeg)
            for n, clip in enumerate(clips)
        ]
        rounds: list[Round] = []
        waited = None
        for mode in modes:
            engine = engines[mode]
            await one_round(engine, mode, profiles[:1], params)  # warm-up
            for size in sizes:
                rounds.append(await one_round(engine, mode, profiles[:size], params))
                print(rounds[-1].row(), flush=True)
            if mode == "batched" and not args.without_ffmpeg:
                waited = await wait_behind_enrolment(engine, profiles[0], params, work, clips[0])
        print(
            f"\n{label}; {device_label(backend, args.device)}; {args.tokens} tokens per sentence,"
        )
        print(
            f"first audio after {args.first_audio_tokens} tokens, {args.decoder_steps} "
            f"S3Gen steps, dtype {args.dtype}, torch threads {torch.get_num_threads()}\n"
        )
        print(
            "| engine | texts at once | first audio p50 | max | slowest stream | "
            "aggregate audio/wall | speech tokens/s |"
        )
        print("|---|---|---|---|---|---|---|")
        for row in rounds:
            print(row.row())
        if waited is not None:
            print(
                f"\nA text asked for during an enrolment had its first audio after "
                f"{waited[0]:.2f} s; the longest enrolment job took {waited[1]:.2f} s."
            )
        for engine in engines.values():
            await engine.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
