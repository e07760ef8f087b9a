"""Does the Perth mark survive to the files people receive, and how often does the
detector fire on audio Parrot never marked?

    .venv/bin/python -m bench.watermark              # 20 outputs per kind, random weights
    .venv/bin/python -m bench.watermark --count 5    # a quicker look
    .venv/bin/python -m bench.watermark --kinds covers

Every output goes through the product path on random checkpoints of the real
architectures (shrunk T3, full S3Gen, tiny HTDemucs, small RVC v2): speech written as the
CLI writes it (WAV, MP3, Opus), speech as the voice channel carries it (48 kHz stereo
Opus 64 kbps, what discord.py sends), zero-shot and RVC covers posted as Opus at the
bitrate the upload limit gives (160 kbps), and as MP3. Then each marked file again after
common re-encodes (MP3 128 kbps, Opus 64 kbps, Opus 24 kbps, resampled to 16 kHz). The
unmarked rows are espeak-ng speech and synthetic songs (tones, a sung vowel, noise drums),
clean and with a recording's noise floor. Detection is ``/detect``'s: decode at Perth's
rate, confidence ≥ 0.5.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Parrot speaks in the voice you enrolled.",
    "Every output carries a watermark.",
    "Rain is expected later this evening.",
    "Please keep the volume down after midnight.",
)
ESPEAK_VOICES = ("en", "en-us", "fr", "de", "es")
REENCODES: dict[str, list[str]] = {
    "mp3 128k": ["-c:a", "libmp3lame", "-b:a", "128k"],
    "opus 64k": ["-c:a", "libopus", "-b:a", "64k"],
    "opus 24k": ["-c:a", "libopus", "-b:a", "24k"],
    "16 kHz wav": ["-ar", "16000"],
}
SUFFIX = {"mp3 128k": ".mp3", "opus 64k": ".ogg", "opus 24k": ".ogg", "16 kHz wav": ".wav"}


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=20, help="outputs per kind")
    parser.add_argument("--song-seconds", type=float, default=6.0)
    parser.add_argument("--speech-tokens", type=int, default=50, help="cap per sentence")
    parser.add_argument(
        "--kinds", nargs="+", default=["unmarked", "speech", "covers"], help="what to measure"
    )
    return parser.parse_args()


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True)


def reencoded(path: Path, name: str, folder: Path) -> Path:
    target = folder / f"{path.stem}-{name.replace(' ', '-')}{SUFFIX[name]}"
    ffmpeg("-i", str(path), *REENCODES[name], str(target))
    return target


def voice_channel(path: Path, folder: Path) -> Path:
    """What a listener in the voice channel gets: 48 kHz stereo Opus at 64 kbps."""
    target = folder / f"{path.stem}-voice.ogg"
    options = ["-ar", "48000", "-ac", "2", "-c:a", "libopus", "-b:a", "64k"]
    ffmpeg("-i", str(path), *options, str(target))
    return target


def confidence(path: Path) -> float:
    from tests.engine.watermark import file_confidence

    return file_confidence(path)


def espeak(text: str, voice: str, path: Path) -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True)
    return path


def synthetic_song_file(seconds: float, seed: int, noise_db: float | None, path: Path) -> Path:
    """A synthetic song; with ``noise_db`` a white noise floor that many dB under it."""
    from tests.engine.synthetic_music import synthetic_song

    samples, _ = synthetic_song(seconds + 0.37 * seed, 44_100)
    rng = np.random.default_rng(seed)
    samples = np.roll(samples, rng.integers(0, samples.shape[1]), axis=1)
    if noise_db is not None:
        floor = rng.standard_normal(samples.shape)
        scale = np.sqrt(np.mean(samples**2) / np.mean(floor**2)) * 10 ** (noise_db / 20)
        samples = samples + scale * floor
    samples = 0.9 * samples / np.max(np.abs(samples))
    soundfile.write(path, samples.T, 44_100, subtype="PCM_16")
    return path


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, list[float]]] = []

    def add(self, name: str, values: list[float]) -> None:
        self.rows.append((name, values))
        print(f"  {name}: {self.line(values)}", flush=True)

    @staticmethod
    def line(values: list[float]) -> str:
        marked = sum(value >= 0.5 for value in values)
        return (
            f"{marked}/{len(values)} read as marked, confidence min {min(values):.2f}"
            f" median {float(np.median(values)):.2f} max {max(values):.2f}"
        )

    def show(self) -> None:
        print("\n| output | files | read as marked | confidence min / median / max |")
        print("|---|---|---|---|")
        for name, values in self.rows:
            marked = sum(value >= 0.5 for value in values)
            print(
                f"| {name} | {len(values)} | {marked / len(values):.0%} | {min(values):.2f} / "
                f"{float(np.median(values)):.2f} / {max(values):.2f} |"
            )


def measure(table: Table, name: str, files: list[Path], folder: Path, reencode: bool) -> None:
    table.add(name, [confidence(path) for path in files])
    if reencode:
        for codec in REENCODES:
            values = [confidence(reencoded(path, codec, folder)) for path in files]
            table.add(f"{name}, then {codec}", values)


async def speech_files(
    engine: Any, profile: Any, args: argparse.Namespace, folder: Path
) -> dict[str, list[Path]]:
    from engine.api import AudioFormat, SpeechParams, encode

    formats = {"wav": AudioFormat.WAV, "mp3": AudioFormat.MP3, "ogg": AudioFormat.OGG_OPUS}
    files: dict[str, list[Path]] = {kind: [] for kind in (*formats, "voice channel")}
    for index in range(args.count):
        text = f"{SENTENCES[index % len(SENTENCES)]} {SENTENCES[(index + 2) % len(SENTENCES)]}"
        params = SpeechParams(seed=index, decoder_steps=2, max_tokens_per_chunk=args.speech_tokens)
        audio = await engine.synthesize(profile, text, params)
        for suffix, fmt in formats.items():
            path = folder / f"speech-{index}.{suffix}"
            await asyncio.to_thread(encode, audio, path, fmt)
            files[suffix].append(path)
        files["voice channel"].append(voice_channel(files["wav"][-1], folder))
    return files


async def cover_files(
    engine: Any, profile: Any, args: argparse.Namespace, folder: Path
) -> dict[str, list[Path]]:
    from engine.cover import CoverParams
    from engine.singing import SingingParams
    from tests.checkpoints.rvc import small_rvc_voice, write_index

    model = (small_rvc_voice("v2", 40_000), write_index(folder / "voice.index", 768, count=64))
    files: dict[str, list[Path]] = {"zero-shot opus": [], "rvc opus": [], "rvc mp3": []}
    for index in range(args.count):
        song = synthetic_song_file(args.song_seconds, index, -40.0, folder / f"song-{index}.wav")
        semitones = index % 5 - 2
        zero_shot = await engine.cover(
            song,
            profile,
            params=CoverParams(semitones=semitones),
            singing=SingingParams(decoder_steps=2, seed=index),
            output=folder / f"zero-shot-{index}",
        )
        files["zero-shot opus"].append(zero_shot.path)
        for fmt_name, fmt in (("opus", None), ("mp3", "mp3")):
            from engine.audio import AudioFormat

            params = CoverParams(
                semitones=semitones,
                output_format=AudioFormat.MP3 if fmt else AudioFormat.OGG_OPUS,
            )
            rvc = await engine.cover(
                song, profile, singing_model=model, params=params, output=folder / f"rvc-{index}"
            )
            files[f"rvc {fmt_name}"].append(rvc.path)
    return files


def unmarked(args: argparse.Namespace, folder: Path) -> dict[str, list[Path]]:
    files: dict[str, list[Path]] = {"espeak-ng speech": [], "synthetic songs, clean": []}
    files["synthetic songs, noise floor -40 dB"] = []
    for index in range(args.count):
        text = f"{SENTENCES[index % len(SENTENCES)]} {SENTENCES[(index + 1) % len(SENTENCES)]}"
        voice = ESPEAK_VOICES[index % len(ESPEAK_VOICES)]
        files["espeak-ng speech"].append(espeak(text, voice, folder / f"espeak-{index}.wav"))
        files["synthetic songs, clean"].append(
            synthetic_song_file(args.song_seconds, index, None, folder / f"clean-{index}.wav")
        )
        files["synthetic songs, noise floor -40 dB"].append(
            synthetic_song_file(args.song_seconds, index, -40.0, folder / f"floor-{index}.wav")
        )
    return files


async def main() -> None:
    args = parse()
    from engine.config import EngineConfig
    from engine.engine import Engine, SampleLimits
    from tests.checkpoints.chatterbox import chatterbox_checkpoint, shrunk_t3
    from tests.checkpoints.demucs import demucs_repo
    from tests.checkpoints.rvc import content_encoder, rmvpe_weights

    table = Table()
    with tempfile.TemporaryDirectory() as temporary, shrunk_t3():
        folder = Path(temporary)
        models = folder / "models"
        models.mkdir()
        for name, target in {
            "chatterbox": chatterbox_checkpoint(),
            "demucs": demucs_repo(),
            "contentvec": content_encoder(),
            "rmvpe": rmvpe_weights().parent,
        }.items():
            (models / name).symlink_to(target, target_is_directory=True)
        engine = Engine(EngineConfig(data_dir=folder / "data", device="cpu", models_dir=models))
        try:
            reference = espeak(SENTENCES[0] + " " + SENTENCES[1], "en", folder / "reference.wav")
            profile, _ = await engine.enroll(
                folder / "voice", [reference], SampleLimits(min_seconds=1.0)
            )
            if "unmarked" in args.kinds:
                for name, files in unmarked(args, folder).items():
                    measure(table, f"unmarked: {name}", files, folder, reencode=False)
            if "speech" in args.kinds:
                for name, files in (await speech_files(engine, profile, args, folder)).items():
                    measure(table, f"speech, {name}", files, folder, reencode=name == "wav")
            if "covers" in args.kinds:
                for name, files in (await cover_files(engine, profile, args, folder)).items():
                    measure(table, f"cover, {name}", files, folder, reencode=name == "rvc opus")
        finally:
            await engine.shutdown()
    table.show()


def run(entry: Callable[[], Any]) -> None:
    asyncio.run(entry())


if __name__ == "__main__":
    run(main)
