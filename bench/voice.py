"""Opus streams per CPU core, and playback jitter while the engine works in the same process.

    .venv/bin/python -m bench.voice                 # CPU, random-weight models
    .venv/bin/python -m bench.voice --seconds 20 --threads 1

Jitter is measured where Discord would see it: the real bot (unmodified discord.py voice
client: Opus encoder, transport encryption, player thread) plays into the test suite's fake
Discord on 127.0.0.1, whose UDP receiver thread timestamps every packet. The same bot's
engine meanwhile runs (a) live speech synthesis on the random-weight Chatterbox checkpoint,
one text or eight decoding together in the batched speech engine, and (b) a cover-sized
computation: a full-size HTDemucs separating stereo audio on the GPU executor thread, as
a cover does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="playback per condition")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the engine")
    parser.add_argument("--frames", type=int, default=1500, help="frames for the Opus timing")
    return parser.parse_args()


# Opus ------------------------------------------------------------------------------------
def opus_table(frames: int) -> list[tuple[str, str]]:
    from discord.opus import Encoder

    rng = np.random.default_rng(0)
    t = np.arange(960 * frames) / 48_000
    signal = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(len(t))
    pcm = np.repeat((signal * 32767).astype("<i2"), 2).tobytes()
    rows = []
    for label, fec in (("Opus 128 kbps, FEC on (discord.py default)", True), ("FEC off", False)):
        encoder = Encoder(fec=fec)
        started = time.perf_counter()
        for index in range(frames):
            encoder.encode(pcm[index * 3840 : (index + 1) * 3840], 960)
        per_frame = (time.perf_counter() - started) / frames
        rows.append((label, f"{per_frame * 1000:.3f} ms/frame, {0.020 / per_frame:.0f} streams"))
    return rows


# the bot against the fake Discord --------------------------------------------------------
@contextlib.asynccontextmanager
async def bot_in_voice(work: Path, threads: int) -> AsyncIterator[tuple[Any, Any, Any, Any]]:
    import pytest

    from bot.settings import Settings
    from tests.checkpoints.chatterbox import chatterbox_checkpoint, shrunk_t3
    from tests.conftest import TEST_TOKEN, started_bot
    from tests.fakediscord import FakeDiscord

    with shrunk_t3(), pytest.MonkeyPatch.context() as patch:
        models = work / "models"
        models.mkdir()
        (models / "chatterbox").symlink_to(chatterbox_checkpoint())
        fake = FakeDiscord()
        await fake.start()
        fake.install(patch)
        guild = fake.add_guild()
        member = fake.add_member(guild, "listener")
        settings = Settings(
            data_dir=work / "data",
            discord_token=TEST_TOKEN,
            device="cpu",
            models_dir=models,
            torch_threads=threads,
            min_sample_seconds=1.0,
            _env_file=None,  # type: ignore[call-arg]
        )
        try:
            async with started_bot(settings) as parrot:
                await fake.join_voice(guild, member)
                cached = parrot.get_guild(guild.id)
                for _ in range(200):
                    found = cached.get_member(int(member["id"]))
                    if found is not None and found.voice is not None:
                        break
                    await asyncio.sleep(0.01)
                voice = await found.voice.channel.connect(timeout=20)
                yield parrot, fake, guild, voice
                await voice.disconnect(force=True)
        finally:
            await fake.stop()


async def enrolled_profile(parrot: Any, work: Path) -> Any:
    import subprocess

    from engine.engine import SampleLimits

    clip = work / "reference.wav"
    await asyncio.to_thread(
        subprocess.run,
        ["espeak-ng", "-w", str(clip), "This is the reference voice for the benchmark."],
        check=True,
    )
    profile, _ = await parrot.engine.enroll(work / "voice", [clip], SampleLimits(min_seconds=1.0))
    return profile


async def keep_speaking(parrot: Any, profile: Any, stop: asyncio.Event, seed: int = 1) -> int:
    from engine.tts import SpeechParams

    params = SpeechParams(max_tokens_per_chunk=25, decoder_steps=4, seed=seed)
    chunks = 0
    while not stop.is_set():
        async for _ in parrot.engine.speak(profile, "Parrot keeps talking. And talking.", params):
            chunks += 1
            if stop.is_set():
                break
    return chunks


async def keep_separating(parrot: Any, stop: asyncio.Event) -> int:
    """A full-size HTDemucs (42 M parameters) on 8 s stereo pieces, on the GPU executor."""
    import torch
    from demucs.apply import apply_model
    from demucs.htdemucs import HTDemucs

    from engine.executor import Priority

    torch.manual_seed(0)
    model = HTDemucs(sources=["drums", "bass", "other", "vocals"]).eval()
    mix = torch.randn(1, 2, 44_100 * 8) * 0.1
    executor = await parrot.engine._started()
    pieces = 0

    def separate(_token: Any) -> None:
        with torch.inference_mode():
            apply_model(model, mix, split=True, overlap=0.1, progress=False)

    while not stop.is_set():
        await executor.run(separate, priority=Priority.COVER, label="bench separation")
        pieces += 1
    return pieces


async def measure(
    parrot: Any,
    fake: Any,
    guild: Any,
    voice: Any,
    seconds: float,
    load: Callable[[asyncio.Event], Awaitable[int]] | None,
) -> tuple[list[float], int, int]:
    """Play ``seconds`` of ready audio while ``load`` runs; gaps between voiced packets."""
    from bot.voice.pcm import to_discord_frames
    from bot.voice.source import StreamingSource

    tone = 0.2 * np.sin(2 * np.pi * 330 * np.arange(int(seconds * 48_000)) / 48_000)
    source = StreamingSource()
    source.feed(to_discord_frames(tone.astype(np.float32), 48_000))
    source.finish()
    session = fake.voice_session(guild)
    before = len(session.packets)
    stop = asyncio.Event()
    worker = asyncio.create_task(load(stop)) if load is not None else None
    if worker is not None:
        await asyncio.sleep(2.0)  # let the load reach its steady state
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    voice.play(source, after=lambda _error: loop.call_soon_threadsafe(done.set))
    await done.wait()
    stop.set()
    work_done = await worker if worker is not None else 0
    packets = [p for p in session.packets[before:] if not p.silence]
    gaps = [(b.arrival - a.arrival) * 1000 for a, b in itertools.pairwise(packets)]
    return gaps, source.underruns, work_done


async def main() -> None:
    args = parse()
    import torch

    torch.set_num_threads(args.threads)
    print("\nOpus encoding on one core (discord.py's Encoder, libopus):\n")
    print(f"| {'encoder':<44} | {'cost, real-time streams per core':>36} |")
    print(f"|{'-' * 46}|{'-' * 38}|")
    for name, value in opus_table(args.frames):
        print(f"| {name:<44} | {value:>36} |")

    rows = []
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        async with bot_in_voice(work, args.threads) as (parrot, fake, guild, voice):
            profile = await enrolled_profile(parrot, work)

            async def speech(stop: asyncio.Event) -> int:
                return await keep_speaking(parrot, profile, stop)

            async def eight_texts(stop: asyncio.Event) -> int:
                texts = [keep_speaking(parrot, profile, stop, seed) for seed in range(8)]
                return sum(await asyncio.gather(*texts))

            async def cover(stop: asyncio.Event) -> int:
                return await keep_separating(parrot, stop)

            async def both(stop: asyncio.Event) -> int:
                results = await asyncio.gather(speech(stop), cover(stop))
                return sum(results)

            for name, load in (
                ("idle engine", None),
                ("live speech synthesis", speech),
                ("8 texts decoding at once", eight_texts),
                ("cover separation (HTDemucs 42 M)", cover),
                ("speech and separation together", both),
            ):
                gaps, underruns, work_done = await measure(
                    parrot, fake, guild, voice, args.seconds, load
                )
                rows.append((name, gaps, underruns, work_done))
    print(
        f"\nPlayback packet gaps at the fake Discord, {args.seconds:.0f} s each, "
        f"torch threads {args.threads}, {os.cpu_count()} CPU cores:\n"
    )
    print(
        f"| {'while the engine runs':<34} | {'p50 ms':>7} | {'p99 ms':>7} | {'max ms':>7} "
        f"| {'underruns':>9} | {'jobs done':>9} |"
    )
    print(f"|{'-' * 36}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 11}|{'-' * 11}|")
    for name, gaps, underruns, work_done in rows:
        print(
            f"| {name:<34} | {statistics.median(gaps):7.1f} | {np.percentile(gaps, 99):7.1f} "
            f"| {max(gaps):7.1f} | {underruns:9d} | {work_done:9d} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
