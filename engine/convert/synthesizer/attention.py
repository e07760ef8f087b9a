"""The content encoder's transformer: self-attention with windowed relative positions.

Inference here is always one unpadded sequence, so there are no masks. Attribute names
follow the RVC checkpoint layout (``attn_layers``, ``norm_layers_1``, ...).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

RELATIVE_WINDOW = 10
"""Relative positions -10..10 have learned embeddings; farther ones contribute nothing."""


class ChannelLayerNorm(nn.Module):
    """Layer norm over the channel axis of a (batch, channels, time) tensor."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        normed = F.layer_norm(x.transpose(1, -1), (x.shape[1],), self.gamma, self.beta, self.eps)
        return normed.transpose(1, -1)


def _band_indices(length: int, window: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """For query i and offset r in [0, 2W]: key j = i + r - W, clamped, and whether it exists."""
    positions = torch.arange(length, device=device)
    offsets = torch.arange(2 * window + 1, device=device) - window
    keys = positions[:, None] + offsets[None, :]
    valid = (keys >= 0) & (keys < length)
    return keys.clamp(0, length - 1), valid


class RelativeSelfAttention(nn.Module):
    """Multi-head self-attention whose scores and values get relative-position terms.

    ``emb_rel_k``/``emb_rel_v`` hold one embedding per offset in [-W, W], shared by all
    heads. For query i and key j with |j - i| <= W, the score gains q_i · rel_k[j - i] and
    the output gains p_ij · rel_v[j - i].
    """

    def __init__(self, channels: int, n_heads: int, window: int = RELATIVE_WINDOW) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.head_dim = channels // n_heads
        self.window = window
        self.conv_q = nn.Conv1d(channels, channels, 1)
        self.conv_k = nn.Conv1d(channels, channels, 1)
        self.conv_v = nn.Conv1d(channels, channels, 1)
        self.conv_o = nn.Conv1d(channels, channels, 1)
        scale = self.head_dim**-0.5
        self.emb_rel_k = nn.Parameter(torch.randn(1, 2 * window + 1, self.head_dim) * scale)
        self.emb_rel_v = nn.Parameter(torch.randn(1, 2 * window + 1, self.head_dim) * scale)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, length = x.shape
        return x.view(batch, self.n_heads, self.head_dim, length).transpose(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, length = x.shape
        query = self._heads(self.conv_q(x)) / math.sqrt(self.head_dim)
        key = self._heads(self.conv_k(x))
        value = self._heads(self.conv_v(x))
        keys, valid = _band_indices(length, self.window, x.device)
        band_shape = (batch, self.n_heads, length, 2 * self.window + 1)

        scores = query @ key.transpose(-2, -1)
        relative_scores = (query @ self.emb_rel_k[0].transpose(0, 1)) * valid
        scores = scores.scatter_add(-1, keys.expand(band_shape), relative_scores)
        weights = torch.softmax(scores, dim=-1)

        out = weights @ value
        band_weights = torch.gather(weights, -1, keys.expand(band_shape)) * valid
        out = out + band_weights @ self.emb_rel_v[0]
        out = out.transpose(2, 3).reshape(batch, channels, length)
        projected: torch.Tensor = self.conv_o(out)
        return projected


class FeedForward(nn.Module):
    """Two 'same'-padded convolutions with a ReLU between them."""

    def __init__(self, channels: int, filter_channels: int, kernel_size: int) -> None:
        super().__init__()
        self.padding = ((kernel_size - 1) // 2, kernel_size // 2)
        self.conv_1 = nn.Conv1d(channels, filter_channels, kernel_size)
        self.conv_2 = nn.Conv1d(filter_channels, channels, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv_1(F.pad(x, self.padding)))
        out: torch.Tensor = self.conv_2(F.pad(x, self.padding))
        return out


class TransformerStack(nn.Module):
    """Post-norm transformer layers: x = norm(x + attention(x)); x = norm(x + ffn(x))."""

    def __init__(
        self, channels: int, filter_channels: int, n_heads: int, n_layers: int, kernel_size: int
    ) -> None:
        super().__init__()
        self.attn_layers = nn.ModuleList(
            RelativeSelfAttention(channels, n_heads) for _ in range(n_layers)
        )
        self.norm_layers_1 = nn.ModuleList(ChannelLayerNorm(channels) for _ in range(n_layers))
        self.ffn_layers = nn.ModuleList(
            FeedForward(channels, filter_channels, kernel_size) for _ in range(n_layers)
        )
        self.norm_layers_2 = nn.ModuleList(ChannelLayerNorm(channels) for _ in range(n_layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layers = zip(
            self.attn_layers, self.norm_layers_1, self.ffn_layers, self.norm_layers_2, strict=True
        )
        for attention, norm_1, feed_forward, norm_2 in layers:
            x = norm_1(x + attention(x))
            x = norm_2(x + feed_forward(x))
        return x
