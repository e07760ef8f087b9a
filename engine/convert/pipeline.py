"""Voice conversion end to end, synchronous, for the executor's worker thread.

Per piece of the input (see :mod:`engine.convert.pieces`): pitch contour (100 frames/s),
content features (50 frames/s), index retrieval, x2 upsampling, protection of unvoiced
frames, then the synthesizer at the model's rate. The cancel token is checked between
stages, and progress is reported as the fraction of the input done.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from engine.audio import Audio
from engine.convert.errors import RvcIndexError
from engine.convert.features import ContentFeatures
from engine.convert.index import FeatureIndex
from engine.convert.loudness import mix_loudness
from engine.convert.params import ConversionParams, InvalidConversionParamsError
from engine.convert.pieces import Chunking, plan_pieces
from engine.convert.pitch import contour
from engine.convert.pitch.base import PitchExtractor
from engine.convert.prepare import condition
from engine.convert.voice_model import RvcModel
from engine.executor import CancelToken

ProgressCallback = Callable[[float], None]

OUTPUT_PEAK = 0.99
FEATURE_UPSAMPLE = 2
"""Content features come at 50 frames/s; pitch and the synthesizer run at 100."""
_PITCH_SHARE, _FEATURE_SHARE = 0.25, 0.1
"""Rough shares of a piece's time, for smooth progress (the synthesizer takes the rest)."""


@dataclass(frozen=True, slots=True)
class _Context:
    model: RvcModel
    params: ConversionParams
    features: ContentFeatures
    pitch: PitchExtractor | None
    index: FeatureIndex | None
    token: CancelToken | None
    generator: torch.Generator

    def check(self) -> None:
        if self.token is not None:
            self.token.raise_if_cancelled()


def _check_inputs(
    model: RvcModel,
    params: ConversionParams,
    features: ContentFeatures,
    pitch: PitchExtractor | None,
    index: FeatureIndex | None,
) -> None:
    if model.has_f0 and pitch is None:
        raise ValueError(f"{model.path.name} is pitch-guided: pass a pitch extractor")
    if pitch is not None and pitch.method != params.pitch_method:
        raise ValueError(
            f"params ask for {params.pitch_method} but the extractor is {pitch.method}"
        )
    if params.speaker_id >= model.info.speakers:
        raise InvalidConversionParamsError(
            f"speaker_id {params.speaker_id} does not exist: the model has "
            f"{model.info.speakers} speaker(s), numbered from 0"
        )
    if index is not None and index.dimension != model.version.content_dim:
        raise RvcIndexError(
            f"the index holds {index.dimension}-d features but {model.path.name} is an RVC "
            f"{model.version.value} model ({model.version.content_dim}-d)"
        )
    features.check_supports(model.version)


def _content(ctx: _Context, chunk: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(features after retrieval, features before it), both at 100 frames/s on the device."""
    device = ctx.model.device
    raw = ctx.features.extract(chunk, ctx.model.version).to(device)
    blended = raw
    if ctx.index is not None and ctx.params.index_rate > 0:
        mixed = ctx.index.blend(raw.cpu().numpy(), ctx.params.index_rate)
        blended = torch.from_numpy(mixed).to(device)
    return (
        blended.repeat_interleave(FEATURE_UPSAMPLE, dim=0),
        raw.repeat_interleave(FEATURE_UPSAMPLE, dim=0),
    )


def protect_unvoiced(
    features: torch.Tensor, original: torch.Tensor, f0: np.ndarray, protect: float
) -> torch.Tensor:
    """Keep unvoiced frames (f0 = 0: breaths, consonants) at ``protect`` of the retrieved
    features and ``1 - protect`` of the input's own; voiced frames stay fully retrieved.

    Retrieval blurs consonants, which carry no pitch; this keeps them intelligible.
    """
    voiced = torch.from_numpy(f0 > 0).to(features.device)[:, None]
    keep = torch.where(voiced, 1.0, protect)
    return features * keep + original * (1.0 - keep)


def _synthesize_chunk(
    ctx: _Context, chunk: np.ndarray, report: Callable[[float], None]
) -> np.ndarray:
    """Convert one piece with its context; returns the whole output, context included."""
    frames = contour.frame_count(len(chunk))
    f0 = ctx.pitch.extract(chunk, frames) if ctx.model.has_f0 and ctx.pitch else None
    report(_PITCH_SHARE)
    ctx.check()
    features, original = _content(ctx, chunk)
    report(_PITCH_SHARE + _FEATURE_SHARE)
    ctx.check()
    usable = min(frames, features.shape[0])
    features, original = features[:usable], original[:usable]
    device = ctx.model.device
    coarse = hz = None
    if f0 is not None:
        f0 = f0[:usable]
        if ctx.params.protects:
            features = protect_unvoiced(features, original, f0, ctx.params.protect)
        shifted = contour.shift_semitones(f0, ctx.params.pitch_shift)
        coarse = torch.from_numpy(contour.coarse_pitch(shifted)).to(device)[None]
        hz = torch.from_numpy(shifted).to(device)[None]
    wave = ctx.model.synthesizer.infer(
        features[None],
        ctx.params.speaker_id,
        coarse_pitch=coarse,
        pitch_hz=hz,
        generator=ctx.generator,
    )
    report(1.0)
    return wave.float().cpu().numpy()


def _take(wave: np.ndarray, start: int, count: int) -> np.ndarray:
    piece = wave[start : start + count]
    return np.pad(piece, (0, count - len(piece))) if len(piece) < count else piece


def convert_voice(
    audio: Audio,
    model: RvcModel,
    *,
    params: ConversionParams,
    features: ContentFeatures,
    pitch: PitchExtractor | None = None,
    index: FeatureIndex | None = None,
    token: CancelToken | None = None,
    progress: ProgressCallback | None = None,
    chunking: Chunking | None = None,
) -> Audio:
    """Sing or speak ``audio`` in the voice of ``model``; returns audio at the model's rate.

    Raises ``JobCancelledError`` (from the token) between stages once cancelled.
    """
    _check_inputs(model, params, features, pitch, index)
    chunking = chunking or Chunking()
    seed = params.seed if params.seed is not None else secrets.randbits(63)
    ctx = _Context(
        model=model,
        params=params,
        features=features,
        pitch=pitch,
        index=index,
        token=token,
        generator=torch.Generator(device=model.device).manual_seed(seed),
    )
    ctx.check()
    source = condition(audio)
    context = chunking.context_samples
    padded = np.pad(source, (context, context), mode="reflect")
    out_per_in = model.sample_rate / contour.SAMPLE_RATE
    skip = context // contour.FRAME_HOP * model.hop_length
    outputs: list[np.ndarray] = []
    for start, end in plan_pieces(source, chunking):
        ctx.check()

        def report(share: float, start: int = start, end: int = end) -> None:
            if progress is not None:
                progress((start + share * (end - start)) / len(source))

        wave = _synthesize_chunk(ctx, padded[start : end + 2 * context], report)
        outputs.append(_take(wave, skip, round(end * out_per_in) - round(start * out_per_in)))
    converted = np.concatenate(outputs)
    converted = mix_loudness(
        source, contour.SAMPLE_RATE, converted, model.sample_rate, params.rms_mix_rate
    )
    peak = float(np.max(np.abs(converted))) if converted.size else 0.0
    if peak > OUTPUT_PEAK:
        converted = converted * (OUTPUT_PEAK / peak)
    return Audio(converted.astype(np.float32), model.sample_rate)
