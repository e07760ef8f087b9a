"""Memory of sending a large training file back from a Ray actor: one bytes value (how a
checkpoint, a model and an index travelled before) against Parrot's pieces
(:mod:`engine.remote.pieces`, received by ``TrainingReceiver``).

Each way runs in a fresh process with its own local Ray (a streaming actor method, as a
Serve replica's ``train`` streams). The caller and the actor that reads the file each
report two peaks over the transfer: the private memory (``RssAnon``, sampled every 5 ms:
the process's own heap) and the resident set (``VmHWM``, which also counts the pages of
Ray's shared object store the process touched). Linux only.

    python -m bench.ray_transfer              # 1024 MB
    python -m bench.ray_transfer --mb 256
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.process_memory import reset_peak, resident_kb, write_filler  # noqa: E402

WAYS = ("whole", "pieces")


class Peaks:
    """The peak private memory (sampled) and resident set of this process from
    :meth:`start` on, in MB above where they were then."""

    def start(self) -> None:
        self._anon_before, self._rss_before = resident_kb("RssAnon"), resident_kb("VmRSS")
        self._anon_peak = self._anon_before
        self._stop = threading.Event()
        reset_peak()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self._anon_peak = max(self._anon_peak, resident_kb("RssAnon"))

    def stop(self) -> tuple[float, float]:
        """(private, resident)."""
        self._stop.set()
        self._thread.join()
        self._anon_peak = max(self._anon_peak, resident_kb("RssAnon"))
        private = (self._anon_peak - self._anon_before) / 1024
        return private, (resident_kb("VmHWM") - self._rss_before) / 1024


class Sender:
    """The replica's side: the file as one value, or in pieces."""

    def __init__(self) -> None:
        self._peaks = Peaks()

    def ready(self) -> None:
        import engine.remote.training  # noqa: F401  # its imports (torch) are not the transfer's

        self._peaks.start()

    def peak(self) -> tuple[float, float]:
        return self._peaks.stop()

    async def whole(self, path: str) -> AsyncIterator[Any]:
        data = await asyncio.to_thread(Path(path).read_bytes)
        yield data

    async def pieces(self, path: str) -> AsyncIterator[Any]:
        from engine.remote import messages
        from engine.remote.messages import TrainingFile
        from engine.remote.pieces import PieceReader
        from engine.remote.training import file_pieces

        reader = await asyncio.to_thread(PieceReader.open, Path(path), messages.PIECE_BYTES)
        async for piece in file_pieces(reader, TrainingFile.CHECKPOINT, "bench"):
            yield piece


async def transfer(way: str, source: Path, folder: Path) -> dict[str, float]:
    import ray

    from engine.files import atomic_write_bytes
    from engine.remote.training import TrainingReceiver, checkpoints_in
    from engine.training.checkpoints import checkpoint_path

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        sender = ray.remote(Sender).remote()  # type: ignore[call-overload]
        await sender.ready.remote()
        caller = Peaks()
        caller.start()
        started = time.perf_counter()
        stream = getattr(sender, way).options(num_returns="streaming").remote(str(source))
        if way == "whole":
            async for ref in stream:
                data = await ref
                target = folder / "whole.pt"
                await asyncio.to_thread(atomic_write_bytes, target, data)
                del data
        else:
            receiver = TrainingReceiver(folder, folder / "out")
            async for ref in stream:
                await asyncio.to_thread(receiver.accept, await ref)
            target = checkpoint_path(checkpoints_in(folder))
        seconds = time.perf_counter() - started
        caller_private, caller_resident = caller.stop()
        sender_private, sender_resident = await sender.peak.remote()
        sizes = await asyncio.to_thread(lambda: {target.stat().st_size, source.stat().st_size})
        assert len(sizes) == 1, "the copy is not the file's size"
        return {
            "seconds": seconds,
            "caller private": caller_private,
            "caller resident": caller_resident,
            "actor private": sender_private,
            "actor resident": sender_resident,
        }
    finally:
        ray.shutdown()


def child(way: str, source: Path) -> None:
    with tempfile.TemporaryDirectory(dir=source.parent) as folder:
        print(json.dumps(asyncio.run(transfer(way, source, Path(folder)))))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=int, default=1024, help="the file's size")
    parser.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.source)
        return
    with tempfile.TemporaryDirectory() as folder:
        source = write_filler(Path(folder) / "checkpoint.pt", args.mb)
        rows = []
        for way in WAYS:
            command = [sys.executable, "-m", "bench.ray_transfer", "--child", way]
            output = subprocess.run(
                [*command, "--source", str(source)],
                check=True,
                capture_output=True,
                text=True,
                cwd=REPO,
            ).stdout
            rows.append((way, json.loads(output.strip().splitlines()[-1])))
    print(f"\n{args.mb} MB from a Ray actor to its caller\n")
    columns = ("caller private", "caller resident", "actor private", "actor resident")
    print(f"| way | seconds | {' | '.join(f'{c} (+MB)' for c in columns)} |")
    print("|---" * (len(columns) + 2) + "|")
    for way, row in rows:
        figures = " | ".join(f"{row[column]:.0f}" for column in columns)
        print(f"| {way} | {row['seconds']:.1f} | {figures} |")


if __name__ == "__main__":
    main()
