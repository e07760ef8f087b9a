"""The prior encoder: content features (+ coarse pitch) to the mean and log-scale of z."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from engine.convert.synthesizer.attention import TransformerStack

PITCH_BINS = 256
"""Coarse pitch ids 1..255 (1 = unvoiced); id 0 is never produced but has an embedding."""


class ContentEncoder(nn.Module):
    def __init__(
        self,
        content_dim: int,
        out_channels: int,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        *,
        with_pitch: bool,
    ) -> None:
        super().__init__()
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.emb_phone = nn.Linear(content_dim, hidden_channels)
        self.emb_pitch = nn.Embedding(PITCH_BINS, hidden_channels) if with_pitch else None
        self.encoder = TransformerStack(
            hidden_channels, filter_channels, n_heads, n_layers, kernel_size
        )
        self.proj = nn.Conv1d(hidden_channels, out_channels * 2, 1)

    def forward(
        self, features: torch.Tensor, coarse_pitch: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Features (batch, frames, dim) and coarse pitch (batch, frames) -> mean, log scale."""
        x = self.emb_phone(features)
        if self.emb_pitch is not None:
            if coarse_pitch is None:
                raise ValueError("this model needs a pitch contour")
            x = x + self.emb_pitch(coarse_pitch)
        x = F.leaky_relu(x * math.sqrt(self.hidden_channels), 0.1)
        x = self.encoder(x.transpose(1, 2))
        mean, log_scale = torch.split(self.proj(x), self.out_channels, dim=1)
        return mean, log_scale
