"""Cover pipeline, zero-shot and RVC: time per stage, real-time factors, what cached stems
save, and the pipeline's overhead over the bare stage calls.

    .venv/bin/python -m bench.cover                   # random weights on CPU, a 30 s clip
    .venv/bin/python -m bench.cover --seconds 15      # a shorter clip
    .venv/bin/python -m bench.cover --device cuda
    .venv/bin/python -m bench.cover --weights DIR     # DIR/demucs (local repo), DIR/chatterbox,
                                                      # DIR/contentvec, DIR/rmvpe
    .venv/bin/python -m bench.cover --rvc-model voice.pth [--rvc-index voice.index]
    .venv/bin/python -m bench.cover --song song.mp3   # a real song instead of the synthetic one

Random weights are real-size: a 42 M-parameter HTDemucs, the full S3Gen (T3 is only needed
for enrolment and is shrunk), a standard RVC v2 40 kHz synthesizer with a 400-vector index,
HuBERT-base-shaped ContentVec (9 layers) and RMVPE. Runs, all in one process on the same
models:

1. warm-up covers of a 3 s clip, one per method (loads models, compiles numba code);
2. per method, each stage called bare, in order, on the executor's worker thread: demucs
   ``apply_model``, the converter (the zero-shot singer with its octave choice, or
   ``ConversionModels.convert`` for RVC), librosa's pitch shift, the vocal effects, mix
   and master, the encoder; right after, that method's cover on a cold cache (every stage
   runs). The overhead is the cover's total over the sum of its bare stages;
3. cover B (zero-shot, another voice) and an RVC cover on the zero-shot cover's cache:
   the stems (and the shifted instrumental) come from the cache.

With ``--repeats N`` step 2 runs N times and the fastest of each is kept,
which steadies the comparison on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

METHODS = ("zero-shot", "rvc")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--weights", type=Path, help="folder holding demucs/, chatterbox/, contentvec/, rmvpe/"
    )
    parser.add_argument("--rvc-model", type=Path, help="an RVC export (default: random v2 40k)")
    parser.add_argument("--rvc-index", type=Path, help="its .index (default: random, with -m)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seconds", type=float, default=30.0, help="clip length")
    parser.add_argument("--song", type=Path, help="a song file (default: a synthetic one)")
    parser.add_argument("--semitones", type=int, default=2, help="key change of the covers")
    parser.add_argument("--decoder-steps", type=int, default=None, help="S3Gen steps (10)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on CPU")
    parser.add_argument("--repeats", type=int, default=1, help="bare / cover alternations")
    return parser.parse_args()


@contextlib.contextmanager
def models_dir(args: argparse.Namespace) -> Iterator[tuple[Path, str]]:
    """A PARROT_MODELS_DIR with every cover model: real or random weights."""
    if args.weights:
        yield args.weights.resolve(), "real weights"
        return
    from tests.checkpoints.chatterbox import chatterbox_checkpoint, shrunk_t3
    from tests.checkpoints.demucs import full_size_repo
    from tests.checkpoints.rvc import content_encoder, rmvpe_weights

    with tempfile.TemporaryDirectory() as temporary, shrunk_t3():
        models = Path(temporary)
        (models / "demucs").symlink_to(full_size_repo())
        (models / "chatterbox").symlink_to(chatterbox_checkpoint())
        (models / "contentvec").symlink_to(content_encoder())
        (models / "rmvpe").symlink_to(rmvpe_weights().parent)
        yield models, "random weights (HTDemucs 42 M, full S3Gen, ContentVec, RMVPE)"


def rvc_files(args: argparse.Namespace, folder: Path) -> tuple[Path, Path | None, str]:
    """The RVC voice to sing with: the one given, or a full-size random v2 40 kHz export."""
    if args.rvc_model:
        return args.rvc_model, args.rvc_index, args.rvc_model.name
    from tests.checkpoints.rvc import rvc_voice, write_index

    index = write_index(folder / "voice.index", 768)
    return rvc_voice("v2", 40_000), index, "random RVC v2 40 kHz with a 400-vector index"


def song(args: argparse.Namespace, seconds: float) -> Any:
    from engine.separate import Track, load_song
    from tests.engine.synthetic_music import synthetic_song

    if args.song:
        track = load_song(args.song)
        return Track(track.samples[:, : round(seconds * track.sample_rate)], track.sample_rate)
    samples, _ = synthetic_song(seconds, 44_100)
    return Track(samples, 44_100)


def enrol(backend: Any, folder: Path, name: str, voice: str) -> tuple[Path, Path]:
    """A voice's conditionals and reference through the real enrolment code."""
    reference = folder / f"{name}.wav"
    text = "This is the reference voice for the cover benchmark."
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(reference), text], check=True)
    conditionals = folder / f"{name}-conds.pt"
    backend.save_conditionals(backend.make_conditionals(reference, 0.5), conditionals)
    return conditionals, reference


def timed(function: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - started


@dataclass(frozen=True)
class Separated:
    vocals: Any
    instrumental: Any
    seconds: float


def bare_separate(separator: Any, mix_track: Any) -> Separated:
    """Demucs called directly, as a script without Parrot's pipeline would."""
    import numpy as np
    import torch
    from demucs.apply import apply_model

    from engine.separate import Track

    model = separator.model
    with torch.inference_mode():
        samples = torch.from_numpy(mix_track.samples)[None]
        sources, seconds = timed(
            apply_model, model, samples, shifts=0, split=True, device=separator.device
        )
    sources = sources[0].float().cpu().numpy()
    vocals_at = list(model.sources).index("vocals")
    vocals = Track(sources[vocals_at], mix_track.sample_rate)
    instrumental = Track(np.delete(sources, vocals_at, axis=0).sum(axis=0), vocals.sample_rate)
    return Separated(vocals, instrumental, seconds)


def zero_shot_bare(singer: Any, semitones: int) -> Callable[[Any], Any]:
    """The zero-shot singer called directly, with the same octave choice as covers make."""
    from engine.audio import resample
    from engine.executor import CancelToken
    from engine.singing import analyse_pitch, octaves_towards

    def convert(vocals: Any) -> Any:
        melody = analyse_pitch(resample(vocals, 16_000)).median_hz()
        octaves = octaves_towards(melody, singer.voice_pitch_hz)
        return singer.convert(vocals, semitones + 12 * octaves, CancelToken(), lambda _: None)

    return convert


def rvc_bare(
    conversion: Any, model: Path, index: Path | None, semitones: int
) -> Callable[[Any], Any]:
    """RVC inference called directly on the loaded conversion models."""
    from engine.convert import ConversionParams
    from engine.executor import CancelToken

    params = ConversionParams(pitch_shift=semitones, seed=0)

    def convert(vocals: Any) -> Any:
        return conversion.convert(
            vocals, model, index_path=index, params=params, token=CancelToken()
        )

    return convert


def bare_rest(
    convert: Callable[[Any], Any], separated: Separated, semitones: int, folder: Path
) -> dict[str, float]:
    """Every stage after separation, called directly on the same inputs."""
    from engine.audio import resample
    from engine.cover import CoverParams, encode_to_fit, master, mix, shift_pitch, vocal_chain
    from engine.separate import Track

    params = CoverParams(semitones=semitones)
    times = {"separate": separated.seconds}
    vocals = separated.vocals
    started = time.perf_counter()
    sung = resample(convert(vocals.mono()), vocals.sample_rate)
    times["convert"] = time.perf_counter() - started
    shifted, times["shift"] = timed(shift_pitch, separated.instrumental, semitones)
    processed, times["effects"] = timed(
        vocal_chain,
        sung.samples,
        sung.sample_rate,
        high_pass_hz=params.high_pass_hz,
        compress_vocals=params.compress,
        wet=params.reverb,
    )
    started = time.perf_counter()
    mixed = mix(
        Track(processed, sung.sample_rate), shifted, vocal_gain_db=0, instrumental_gain_db=0
    )
    finished = master(mixed, target_lufs=params.target_lufs)
    times["mix"] = time.perf_counter() - started
    _, times["encode"] = timed(encode_to_fit, finished, folder / "bare", max_bytes=params.max_bytes)
    return times


@dataclass
class MethodRuns:
    """One method's best cold cover, its best bare stages, and its stems-cached cover."""

    cold: Any = None
    bare: dict[str, float] | None = None
    cached: Any = None

    def keep(self, cold: Any, bare: dict[str, float]) -> None:
        if self.cold is None or cold.timings["total"] < self.cold.timings["total"]:
            self.cold = cold
        if self.bare is None or sum(bare.values()) < sum(self.bare.values()):
            self.bare = bare


async def run(args: argparse.Namespace) -> None:
    import torch

    from engine.config import EngineConfig
    from engine.convert import ConversionParams
    from engine.convert.runtime import ConversionModels
    from engine.convert.singer import RvcSinger, SingingModel
    from engine.cover import CoverParams, CoverPipeline
    from engine.executor import GpuExecutor, Priority
    from engine.separate import DemucsSeparator
    from engine.singing import SingingParams, ZeroShotSinger
    from engine.tts.chatterbox import ChatterboxBackend

    def thread_setup() -> None:
        torch.set_num_threads(args.threads)

    thread_setup()
    runs = {method: MethodRuns() for method in METHODS}
    with models_dir(args) as (models, weights_label), tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        rvc_model, rvc_index, rvc_label = rvc_files(args, folder)
        config = EngineConfig(data_dir=folder, device=args.device, models_dir=models)
        backend = ChatterboxBackend(config, args.device)
        backend.load()
        voices = [
            enrol(backend, folder, name, voice) for name, voice in (("a", "en"), ("b", "en+f3"))
        ]
        executor = GpuExecutor(args.device, thread_setup=thread_setup)
        separator = DemucsSeparator("htdemucs", models_dir=models, device=args.device)
        conversion = ConversionModels(config, args.device)
        singing_params = SingingParams(decoder_steps=args.decoder_steps)

        def singer(index: int) -> ZeroShotSinger:
            conditionals, reference = voices[index]
            return ZeroShotSinger(
                lambda: backend.model.s3gen,
                conditionals,
                reference=reference,
                device=args.device,
                params=singing_params,
            )

        rvc_singer = RvcSinger(
            lambda: conversion,
            SingingModel.hashed(rvc_model, rvc_index),
            ConversionParams(seed=0),
        )
        cover_params = CoverParams(semitones=args.semitones)
        clip = song(args, args.seconds)

        bare_converters = {
            "zero-shot": lambda: zero_shot_bare(singer(0), args.semitones),
            "rvc": lambda: rvc_bare(conversion, rvc_model, rvc_index, args.semitones),
        }
        converters = {"zero-shot": lambda: singer(0), "rvc": lambda: rvc_singer}

        def bare_stages(method: str) -> dict[str, float]:
            separated = bare_separate(separator, clip)
            convert = bare_converters[method]()
            return bare_rest(convert, separated, args.semitones, folder / method)

        try:
            warm = CoverPipeline(executor, separator, folder / "warm-up")
            warm_song = song(args, 3.0)
            await warm.cover(warm_song, singer(0), cover_params)
            await warm.cover(warm_song, rvc_singer, cover_params)
            for attempt in range(args.repeats):
                for method in METHODS:  # each cover right after its own bare calls
                    bare = await executor.run(
                        lambda _token, method=method: bare_stages(method), priority=Priority.COVER
                    )
                    pipeline = CoverPipeline(executor, separator, folder / f"{method}-{attempt}")
                    cold = await pipeline.cover(clip, converters[method](), cover_params)
                    runs[method].keep(cold, bare)
                    if method == "zero-shot":
                        stems_cached = pipeline
            runs["zero-shot"].cached = await stems_cached.cover(clip, singer(1), cover_params)
            runs["rvc"].cached = await stems_cached.cover(clip, rvc_singer, cover_params)
        finally:
            executor.shutdown()

    device = args.device
    if device.startswith("cuda"):
        device += f" ({torch.cuda.get_device_name(torch.device(device))})"
    print(
        f"\nCover of a {clip.duration:.0f} s clip on {device}, torch {torch.__version__}, "
        f"{args.threads} thread(s), {weights_label}; S3Gen steps {args.decoder_steps or 10}; "
        f"{rvc_label}; key {args.semitones:+d}\n"
    )
    print_table(runs, clip.duration)


def print_table(runs: dict[str, MethodRuns], seconds: float) -> None:
    """A Markdown table (stage rows, a column group per method), then the summary lines."""
    from engine.cover import STAGES

    header = ["stage"]
    for label in ("zero-shot", "RVC"):
        header += [f"{label} s", "RTF", "bare s", "stems cached s"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for stage in (*STAGES, "total"):
        cells = [f"**{stage}**" if stage == "total" else stage]
        for method in METHODS:
            result = runs[method]
            assert result.cold is not None and result.bare is not None
            cold = result.cold.timings.get(stage, 0.0)
            bare = sum(result.bare.values()) if stage == "total" else result.bare.get(stage)
            cells += [
                f"{cold:.2f}",
                f"{cold / seconds:.3f}",
                "-" if bare is None else f"{bare:.2f}",
                f"{result.cached.timings.get(stage, 0.0):.2f}",
            ]
        print("| " + " | ".join(cells) + " |")
    print()
    for method in METHODS:
        result = runs[method]
        assert result.bare is not None
        total, bare = result.cold.timings["total"], sum(result.bare.values())
        cached = result.cached.timings["total"]
        print(
            f"{method}: overhead over the bare stage calls {(total - bare) / bare:+.1%} "
            f"({total - bare:+.2f} s); with cached stems {total / cached:.2f}x faster "
            f"(cache hits: {', '.join(result.cached.cache_hits)}); output "
            f"{result.cold.format.value} {result.cold.bitrate_kbps} kbps, "
            f"melody moved {result.cold.octaves:+d} octave(s)"
        )


def main() -> None:
    asyncio.run(run(parse()))


if __name__ == "__main__":
    main()
