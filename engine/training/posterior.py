"""The posterior encoder (``enc_q``): linear spectrogram -> latent z, for training only.

It sees the real audio, so the vocoder learns from z of the true recording while the
prior encoder (``enc_p``) learns, through the flow and the KL loss, to predict it from
content and pitch. Exports drop it.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.convert.synthesizer.flow import WaveNetStack

POSTERIOR_KERNEL = 5
POSTERIOR_LAYERS = 16


class PosteriorEncoder(nn.Module):
    def __init__(
        self, spec_channels: int, out_channels: int, hidden_channels: int, gin_channels: int
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.pre = nn.Conv1d(spec_channels, hidden_channels, 1)
        self.enc = WaveNetStack(
            hidden_channels, POSTERIOR_KERNEL, POSTERIOR_LAYERS, gin_channels, dilation_rate=1
        )
        self.proj = nn.Conv1d(hidden_channels, out_channels * 2, 1)

    def forward(
        self, spec: torch.Tensor, speaker: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(batch, bins, frames) magnitudes -> sampled z, its mean and log scale."""
        hidden = self.enc(self.pre(spec), speaker)
        mean, log_scale = torch.split(self.proj(hidden), self.out_channels, dim=1)
        z = mean + torch.randn_like(mean) * torch.exp(log_scale)
        return z, mean, log_scale
