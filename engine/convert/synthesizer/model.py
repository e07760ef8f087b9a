"""The RVC synthesizer for inference: prior encoder, reverse flow, vocoder, speaker table.

Top-level names (``enc_p``, ``flow``, ``dec``, ``emb_g``) and everything below them give
state-dict keys and shapes equal to RVC's exports once weight norm is folded (see
:mod:`engine.convert.synthesizer.weight_norm`). The posterior encoder (``enc_q``) is for
training only and is not built.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.convert.synthesizer.config import SynthesizerConfig
from engine.convert.synthesizer.encoder import ContentEncoder
from engine.convert.synthesizer.flow import CouplingFlow
from engine.convert.synthesizer.generator import HifiGanGenerator, NsfGenerator

PRIOR_NOISE_SCALE = 0.66666
"""RVC samples the prior at two thirds of its learned spread."""


class Synthesizer(nn.Module):
    def __init__(self, config: SynthesizerConfig) -> None:
        super().__init__()
        self.config = config
        self.enc_p = ContentEncoder(
            config.content_dim,
            config.inter_channels,
            config.hidden_channels,
            config.filter_channels,
            config.n_heads,
            config.n_layers,
            config.kernel_size,
            with_pitch=config.has_f0,
        )
        self.dec = NsfGenerator(config) if config.has_f0 else HifiGanGenerator(config)
        self.flow = CouplingFlow(config.inter_channels, config.hidden_channels, config.gin_channels)
        self.emb_g = nn.Embedding(config.speakers, config.gin_channels)

    @torch.inference_mode()
    def infer(
        self,
        features: torch.Tensor,
        speaker_id: int,
        *,
        coarse_pitch: torch.Tensor | None = None,
        pitch_hz: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Content features (1, frames, dim) at 100 frames/s -> waveform (samples,).

        Pitch-guided models need ``coarse_pitch`` (1, frames) ids and ``pitch_hz``
        (1, frames); the noise comes from ``generator`` so that a seed fixes the output.
        """
        if self.config.has_f0 and (coarse_pitch is None or pitch_hz is None):
            raise ValueError("this model is pitch-guided: pass coarse_pitch and pitch_hz")
        speaker = self.emb_g(torch.tensor([speaker_id], device=features.device)).unsqueeze(-1)
        mean, log_scale = self.enc_p(features, coarse_pitch if self.config.has_f0 else None)
        noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        z_prior = mean + torch.exp(log_scale) * noise * PRIOR_NOISE_SCALE
        z = self.flow.reverse(z_prior, speaker)
        audio: torch.Tensor = self.dec(
            z, speaker, pitch_hz if self.config.has_f0 else None, generator
        )
        return audio[0, 0]
