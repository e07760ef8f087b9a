"""Training speed: seconds per epoch per minute of training audio, and peak memory.

    .venv/bin/python -m bench.train            # CPU tiny and real (+ real on CUDA if present)
    .venv/bin/python -m bench.train --runs cuda:real --gpu-minutes 10 --gpu-steps 30

The pretrained generator and discriminator are random weights of the real architecture
in RVC's file format (tests/checkpoints/rvc_pretrained.py): a step's cost does not depend
on the weights' values. The training set is synthetic (a gliding harmonic tone, random
768-d features) sliced like RVC's preprocessing into 3.7 s segments. A few warm-up steps
are not timed; an epoch is ``segments / batch`` steps, so seconds per epoch are measured
seconds per step times steps per epoch. The last column projects 10 minutes of audio
times 100 epochs (the issue's target on an H100/H200-class GPU: at most 15 minutes).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SEGMENT_SECONDS = 3.7
RATE = 40_000
HOP = 400


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs",
        default="auto",
        help="device:size pairs, e.g. cpu:tiny,cpu:real,cuda:real; auto = those three, "
        "CUDA only when torch sees a GPU",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads on the CPU")
    parser.add_argument("--minutes", type=float, default=1.0, help="CPU training audio (min)")
    parser.add_argument("--gpu-minutes", type=float, default=10.0, help="GPU training audio")
    parser.add_argument("--steps", type=int, default=3, help="timed CPU steps per row")
    parser.add_argument("--gpu-steps", type=int, default=20, help="timed GPU steps per row")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first (GPU: 3)")
    parser.add_argument("--batch-size", type=int, default=0, help="0 picks by device")
    return parser.parse_args()


def synthetic_set(folder: Path, minutes: float) -> Any:
    from engine.convert.pitch.contour import coarse_pitch
    from engine.training.training_set import Segment, TrainingSetWriter

    rng = np.random.default_rng(0)
    frames = round(SEGMENT_SECONDS * 100)
    writer = TrainingSetWriter(folder, f"bench-{minutes}")
    for _ in range(max(1, round(minutes * 60 / SEGMENT_SECONDS))):
        f0 = np.linspace(rng.uniform(110, 180), rng.uniform(180, 300), frames).astype(np.float32)
        phase = np.cumsum(np.repeat(f0, HOP) / RATE)
        audio = sum(0.3 / k * np.sin(2 * np.pi * k * phase) for k in range(1, 6))
        audio = (audio + 0.01 * rng.standard_normal(len(audio))).astype(np.float32)
        writer.add(
            Segment(
                audio=audio,
                features=rng.standard_normal((frames, 768)).astype(np.float32),
                pitch_hz=f0,
                coarse=coarse_pitch(f0),
            )
        )
    return writer.finish()


def peak_memory_gib(device: str) -> float:
    if device.startswith("cuda"):
        import torch

        return float(torch.cuda.max_memory_allocated()) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def measure(
    device: str, size: str, args: argparse.Namespace, training_set: Any, work: Path
) -> dict[str, Any]:
    import torch

    from engine.training.params import TrainingParams
    from engine.training.pretrained import load_pretrained
    from engine.training.run import TrainingRun
    from tests.checkpoints.rvc_pretrained import rvc_pretrained

    gpu = device.startswith("cuda")
    pretrained = load_pretrained(*rvc_pretrained(tiny=size == "tiny"))
    params = TrainingParams(epochs=1000, batch_size=args.batch_size, allow_cpu=True)
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    run = TrainingRun(training_set, pretrained, work / f"checkpoints-{size}", params, device)
    for _ in range(max(args.warmup, 3) if gpu else args.warmup):
        run.run_piece(0.0)
    times = []
    for _ in range(args.gpu_steps if gpu else args.steps):
        started = time.perf_counter()
        run.run_piece(0.0)  # exactly one step; loss.item() waits for the GPU
        times.append(time.perf_counter() - started)
    step = statistics.median(times)
    epoch = step * run.steps_per_epoch
    minutes = run.bank.seconds / 60
    per_minute = epoch / minutes
    if gpu:
        name = torch.cuda.get_device_name(torch.device(device))
    else:
        name = f"CPU ({torch.get_num_threads()} threads)"
    return {
        "device": name,
        "size": size,
        "batch": run.batch_size,
        "minutes": minutes,
        "step": step,
        "epoch": epoch,
        "per_minute": per_minute,
        "memory": peak_memory_gib(device),
        "target": per_minute * 10 * 100 / 60,
        "precision": str(run.autocast_dtype or torch.float32).replace("torch.", ""),
    }


def planned_runs(spec: str) -> list[tuple[str, str]]:
    import torch

    if spec == "auto":
        spec = "cpu:tiny,cpu:real" + (",cuda:real" if torch.cuda.is_available() else "")
    runs = []
    for item in spec.split(","):
        device, _, size = item.partition(":")
        runs.append((device, size or "real"))
    return runs


def main() -> None:
    args = parse()
    import torch

    torch.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        sets: dict[float, Any] = {}
        for device, size in planned_runs(args.runs):
            minutes = args.gpu_minutes if device.startswith("cuda") else args.minutes
            if minutes not in sets:
                sets[minutes] = synthetic_set(work / f"set-{minutes}", minutes)
            rows.append(measure(device, size, args, sets[minutes], work))
    print("\nRVC v2 40k training (median seconds per step; an epoch is segments / batch steps)\n")
    print(
        "| device | size | precision | batch | audio (min) | s/step | s/epoch | s/epoch per "
        "min of audio | peak memory (GiB) | 10 min x 100 epochs (min) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row['device']} | {row['size']} | {row['precision']} | {row['batch']} | "
            f"{row['minutes']:.1f} | {row['step']:.2f} | {row['epoch']:.1f} | "
            f"{row['per_minute']:.1f} | {row['memory']:.1f} | {row['target']:.0f} |"
        )


if __name__ == "__main__":
    main()
