"""The trainable RVC v2 synthesizer: inference network plus ``enc_q`` and the train pass.

Module names give the state-dict keys of RVC's ``f0G40k.pth`` (with weight norm applied
by :func:`engine.training.norms.apply_weight_norm`). Batches hold equal-length windows,
so nothing needs masks: the inference modules are reused unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.convert.synthesizer import Synthesizer, SynthesizerConfig
from engine.training.mel import SPEC_CHANNELS
from engine.training.posterior import PosteriorEncoder

SEGMENT_FRAMES = 32
"""Frames of latent the vocoder decodes per item and step (12800 samples at 40 kHz)."""


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """What shapes the generator and discriminator (read from the pretrained files)."""

    synthesizer: SynthesizerConfig
    discriminator_width_divisor: int = 1
    spec_channels: int = SPEC_CHANNELS
    segment_frames: int = SEGMENT_FRAMES


@dataclass(frozen=True, slots=True)
class Batch:
    """Equal-length windows: features (B, T, 768), coarse/pitch (B, T), spec (B, 1025, T)."""

    features: torch.Tensor
    coarse: torch.Tensor
    pitch_hz: torch.Tensor
    spec: torch.Tensor
    speakers: torch.Tensor


@dataclass(frozen=True, slots=True)
class GeneratorOutput:
    audio: torch.Tensor
    """(B, 1, segment_frames * hop) decoded from the slice of z starting at ``starts``."""
    starts: torch.Tensor
    z_p: torch.Tensor
    mean_p: torch.Tensor
    log_scale_p: torch.Tensor
    log_scale_q: torch.Tensor


def slice_frames(x: torch.Tensor, starts: torch.Tensor, length: int) -> torch.Tensor:
    """Per item b, ``x[b, ..., starts[b] : starts[b] + length]`` along the last axis."""
    index = starts.view(-1, *([1] * (x.dim() - 1))) + torch.arange(length, device=x.device)
    return torch.gather(x, -1, index.expand(*x.shape[:-1], length))


class TrainableSynthesizer(Synthesizer):
    def __init__(self, config: NetworkConfig) -> None:
        super().__init__(config.synthesizer)
        self.network_config = config
        self.enc_q = PosteriorEncoder(
            config.spec_channels,
            config.synthesizer.inter_channels,
            config.synthesizer.hidden_channels,
            config.synthesizer.gin_channels,
        )

    def forward(self, batch: Batch, generator: torch.Generator | None = None) -> GeneratorOutput:
        """The training pass; window starts come from ``generator`` (CPU) for a seeded run."""
        segment = self.network_config.segment_frames
        speaker = self.emb_g(batch.speakers).unsqueeze(-1)
        mean_p, log_scale_p = self.enc_p(batch.features, batch.coarse)
        z, _, log_scale_q = self.enc_q(batch.spec, speaker)
        z_p = self.flow(z, speaker)
        frames = z.shape[-1]
        if frames < segment:
            raise ValueError(f"windows of {frames} frames are shorter than {segment}")
        starts = torch.randint(0, frames - segment + 1, (z.shape[0],), generator=generator)
        starts = starts.to(z.device)
        audio = self.dec(
            slice_frames(z, starts, segment), speaker, slice_frames(batch.pitch_hz, starts, segment)
        )
        return GeneratorOutput(audio, starts, z_p, mean_p, log_scale_p, log_scale_q)
