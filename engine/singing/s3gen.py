"""Chatterbox's S3Gen as a voice converter: the words of one recording, another voice.

The source is read into S3 speech tokens (25 per second, 16 kHz input) by S3Gen's own
tokenizer; ``s3gen.inference`` then renders those tokens with a voice's reference
dictionary (``conds.gen`` of the voice's saved Conditionals) at 24 kHz. Tokens are
time-aligned with the input, so the output is as long as the input (to 40 ms).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine.audio import Audio, resample
from engine.tts.errors import ModelNotDownloadedError, VoiceNotEnrolledError

OUTPUT_RATE = 24_000
TOKENIZER_RATE = 16_000
MIN_INPUT_S = 0.5
"""Shorter input is padded with silence: a handful of tokens is not worth the risk."""
WEIGHT_FILES = ("s3gen.safetensors", "s3gen.pt")
_IGNORED_MISSING = ("tokenizer._mel_filters", "tokenizer.window", "trim_fade")


class S3GenCheckpointError(RuntimeError):
    """An S3Gen weights file that does not fit the model; the message says what is off."""


def load_s3gen(folder: Path, device: str) -> Any:
    """S3Gen alone (no T3) from a Chatterbox weights folder, in eval mode on ``device``."""
    path = next((folder / name for name in WEIGHT_FILES if (folder / name).is_file()), None)
    if path is None:
        raise ModelNotDownloadedError(
            f"Chatterbox's S3Gen weights ({' or '.join(WEIGHT_FILES)}) are not in {folder}: "
            "run `parrot models download original` on a machine with internet access"
        )
    import torch
    from chatterbox.models.s3gen import S3Gen

    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    model = S3Gen()
    result = model.load_state_dict(state, strict=False)
    missing = [key for key in result.missing_keys if not key.endswith(_IGNORED_MISSING)]
    if missing:
        raise S3GenCheckpointError(
            f"{path} does not fit Chatterbox's S3Gen: {len(missing)} weights are missing "
            f"(first: {', '.join(missing[:3])})"
        )
    return model.to(device).eval()


def load_voice_reference(conditionals: Path, device: str) -> dict[str, Any]:
    """The S3Gen reference dictionary from a voice's saved Conditionals file."""
    from chatterbox.tts import Conditionals

    if not conditionals.is_file():
        raise VoiceNotEnrolledError(
            f"this voice has no Chatterbox conditionals at {conditionals}; enrol it again"
        )
    try:
        loaded = Conditionals.load(conditionals, map_location="cpu")
    except (RuntimeError, KeyError, TypeError, EOFError) as error:
        raise VoiceNotEnrolledError(
            f"the conditionals file {conditionals} is damaged ({error}); enrol the voice again"
        ) from error
    return {
        key: value.to(device) if hasattr(value, "to") else value
        for key, value in loaded.gen.items()
    }


def convert_speech(
    s3gen: Any,
    reference: dict[str, Any],
    audio: Audio,
    *,
    decoder_steps: int | None = None,
    seed: int | None = None,
) -> Audio:
    """Render ``audio`` in the reference voice: 24 kHz, exactly as many seconds as the input.

    Keep inputs short (S3Gen is made for up to ~30 s; cut longer audio first).
    """
    import torch

    device = s3gen.device
    frames = round(audio.duration * OUTPUT_RATE)
    if len(audio) == 0:
        return Audio(np.zeros(0, dtype=np.float32), OUTPUT_RATE)
    if seed is not None:
        torch.manual_seed(seed)
    source = resample(audio, TOKENIZER_RATE).samples
    shortest = round(MIN_INPUT_S * TOKENIZER_RATE)
    if len(source) < shortest:
        source = np.pad(source, (0, shortest - len(source)))
    with torch.inference_mode():
        wav = torch.from_numpy(np.ascontiguousarray(source)).float().to(device)[None]
        tokens, _ = s3gen.tokenizer(wav)
        rendered, _ = s3gen.inference(
            speech_tokens=tokens.to(device),
            ref_dict=dict(reference),
            n_cfm_timesteps=decoder_steps,
        )
    samples = rendered.squeeze(0).detach().float().cpu().numpy()
    out = np.zeros(frames, dtype=np.float32)
    out[: min(frames, len(samples))] = samples[:frames]
    return Audio(out, OUTPUT_RATE)
