"""The Ray path's overhead: the same texts through the embedded engine and through
``RayEngine`` (Ray Serve replicas on this machine), same weights, seeds and caps.

    .venv/bin/python -m bench.remote                          # CPU, 2-layer test checkpoint
    .venv/bin/python -m bench.remote --sizes 1,4 --tokens 10  # smaller
    .venv/bin/python -m bench.remote --weights DIR --device cuda --replicas 2 --gpus 0.5

N concurrent two-sentence texts, each its own voice, go through ``speak`` at once; the
embedded engine runs first and is shut down before the cluster starts, so the two never
share the machine. Columns: first audio (p50, max) from the moment all N were asked; the
mean delay between a stream's consecutive chunks; aggregate audio seconds per wall second.
The "Ray − embedded" rows are the differences. Needs the ``ray`` extra.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.concurrency import voice_clips  # noqa: E402
from bench.tts import enrol, model_folder  # noqa: E402


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--weights", type=Path, help="folder with real Chatterbox weights")
    weights.add_argument("--full-t3", action="store_true", help="random, production T3 depth")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2, help="torch threads on CPU")
    parser.add_argument("--sizes", default="1,4,8", help="concurrent texts per round")
    parser.add_argument("--tokens", type=int, default=25, help="speech tokens per sentence")
    parser.add_argument("--first-audio-tokens", type=int, default=10)
    parser.add_argument("--decoder-steps", type=int, default=2)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--gpus", type=float, default=0.0, help="GPUs per replica")
    parser.add_argument("--cpus", type=int, default=0, help="Ray's CPUs (0: the machine's)")
    return parser.parse_args()


@dataclasses.dataclass
class Round:
    engine: str
    streams: int
    wall: float
    first_audio: list[float]
    chunk_gaps: list[float]
    audio_seconds: float

    @property
    def p50(self) -> float:
        return statistics.median(self.first_audio)

    @property
    def gap(self) -> float:
        return statistics.mean(self.chunk_gaps) if self.chunk_gaps else 0.0

    @property
    def aggregate(self) -> float:
        return self.audio_seconds / self.wall

    def row(self) -> str:
        return (
            f"| {self.engine} | {self.streams} | {self.p50 * 1000:.0f} ms "
            f"| {max(self.first_audio) * 1000:.0f} ms | {self.gap * 1000:.0f} ms "
            f"| {self.aggregate:.3f}× |"
        )


def difference(ray: Round, embedded: Round) -> str:
    change = (ray.aggregate / embedded.aggregate - 1) * 100
    return (
        f"| Ray − embedded | {ray.streams} | {(ray.p50 - embedded.p50) * 1000:+.0f} ms "
        f"| {(max(ray.first_audio) - max(embedded.first_audio)) * 1000:+.0f} ms "
        f"| {(ray.gap - embedded.gap) * 1000:+.0f} ms | {change:+.1f} % |"
    )


async def one_round(engine: Any, name: str, profiles: list[Any], params: Any) -> Round:
    started = time.perf_counter()

    async def stream(index: int, profile: Any) -> tuple[float, list[float], float]:
        text = f"Server {index} has something to say. It says it twice over."
        first, last, seconds = 0.0, 0.0, 0.0
        gaps = []
        async for chunk in engine.speak(profile, text, params.with_seed(index)):
            now = time.perf_counter() - started
            if first:
                gaps.append(now - last)
            first = first or now
            last = now
            seconds += chunk.duration
        return first, gaps, seconds

    results = await asyncio.gather(*(stream(i, p) for i, p in enumerate(profiles)))
    return Round(
        name,
        len(profiles),
        time.perf_counter() - started,
        [first for first, _, _ in results],
        [gap for _, gaps, _ in results for gap in gaps],
        sum(seconds for _, _, seconds in results),
    )


async def rounds(
    engine: Any, name: str, profiles: list[Any], params: Any, sizes: list[int]
) -> list[Round]:
    await one_round(engine, name, profiles[:1], params)  # warm-up: models load
    done = []
    for size in sizes:
        done.append(await one_round(engine, name, profiles[:size], params))
        print(done[-1].row(), flush=True)
    return done


async def main() -> None:
    args = parse()
    import ray
    from ray import serve

    from engine.api import EngineConfig, RayPlacement, SpeechParams
    from engine.engine import Engine
    from engine.remote.app import deploy
    from engine.remote.client import RayEngine, Timeouts
    from engine.remote.registry import NAMESPACE

    sizes = [int(size) for size in args.sizes.split(",")]
    params = SpeechParams(max_tokens_per_chunk=args.tokens, decoder_steps=args.decoder_steps)
    with model_folder(args) as (models, label), tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        config = EngineConfig(
            data_dir=work / "data",
            device=args.device,
            models_dir=models,
            torch_threads=args.threads if args.device == "cpu" else 0,
            max_speech_batch=max(sizes),
            first_audio_tokens=args.first_audio_tokens,
        )
        embedded = Engine(config)
        clips = voice_clips(work, max(sizes))
        profiles = [
            await enrol(embedded, work / f"voice{n}", clip, False) for n, clip in enumerate(clips)
        ]
        local = await rounds(embedded, "embedded", profiles, params, sizes)
        await embedded.shutdown()
        del embedded

        shrink = not args.weights and not args.full_t3  # the test checkpoint's T3
        runtime_env: dict[str, Any] = {"env_vars": {"PYTHONPATH": str(REPO)}}
        if shrink:
            runtime_env["worker_process_setup_hook"] = "tests.remote.hooks.shrink_t3"
        ray.init(
            num_cpus=args.cpus or None,
            include_dashboard=False,
            namespace=NAMESPACE,
            log_to_driver=False,
            runtime_env=runtime_env,
        )
        placement = RayPlacement(
            gpus_per_replica=args.gpus,
            cpus_per_replica=0.5,
            min_replicas=args.replicas,
            max_replicas=args.replicas,
            runtime_env=runtime_env,
        )
        await asyncio.to_thread(deploy, config, placement)
        patient = Timeouts(first_chunk_s=3600, next_chunk_s=3600)  # a slow CPU is not a hang
        remote = RayEngine(config, placement=placement, timeouts=patient)
        through_ray = await rounds(remote, "Ray", profiles, params, sizes)
        await remote.shutdown()
        serve.shutdown()
        ray.shutdown()

    print(f"\n{label}; {args.device}, torch threads {args.threads}; {args.tokens} tokens per")
    print(
        f"sentence, first audio after {args.first_audio_tokens} tokens, {args.decoder_steps} "
        f"S3Gen steps; Ray: {args.replicas} replica(s), {args.gpus:g} GPU each\n"
    )
    print("| engine | texts at once | first audio p50 | max | chunk gap | aggregate audio/wall |")
    print("|---|---|---|---|---|---|")
    for ray_round, local_round in zip(through_ray, local, strict=True):
        print(local_round.row())
        print(ray_round.row())
        print(difference(ray_round, local_round))


if __name__ == "__main__":
    asyncio.run(main())
