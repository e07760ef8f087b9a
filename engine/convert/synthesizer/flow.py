"""The normalising flow: reverse (prior sample z_p -> latent z) for inference, forward
(posterior z -> z_p) for training."""

from __future__ import annotations

import torch
from torch import nn

from engine.convert.synthesizer.weight_norm import NormedConv1d

FLOW_KERNEL = 5
FLOW_WAVENET_LAYERS = 3
COUPLING_LAYERS = 4


class WaveNetStack(nn.Module):
    """Gated dilated convolutions with speaker conditioning, summed through skip outputs."""

    def __init__(
        self, channels: int, kernel_size: int, n_layers: int, gin_channels: int, dilation_rate: int
    ) -> None:
        super().__init__()
        self.channels = channels
        self.cond_layer = NormedConv1d(gin_channels, 2 * channels * n_layers, 1)
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        for index in range(n_layers):
            dilation = dilation_rate**index
            self.in_layers.append(
                NormedConv1d(
                    channels,
                    2 * channels,
                    kernel_size,
                    dilation=dilation,
                    padding=(kernel_size * dilation - dilation) // 2,
                )
            )
            last = index == n_layers - 1
            self.res_skip_layers.append(
                NormedConv1d(channels, channels if last else 2 * channels, 1)
            )

    def forward(self, x: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        conditioning = self.cond_layer(speaker)
        width = 2 * self.channels
        skip = torch.zeros_like(x)
        for index, (in_layer, res_skip) in enumerate(
            zip(self.in_layers, self.res_skip_layers, strict=True)
        ):
            gate_in = in_layer(x) + conditioning[:, index * width : (index + 1) * width]
            acts = torch.tanh(gate_in[:, : self.channels]) * torch.sigmoid(
                gate_in[:, self.channels :]
            )
            out = res_skip(acts)
            if index < len(self.in_layers) - 1:
                x = x + out[:, : self.channels]
                skip = skip + out[:, self.channels :]
            else:
                skip = skip + out
        return skip


class MeanCoupling(nn.Module):
    """Affine coupling with a shift only: the second half moves by a function of the first."""

    def __init__(self, channels: int, hidden_channels: int, gin_channels: int) -> None:
        super().__init__()
        # not ``half``: that would shadow nn.Module.half(); plain int, so no state-dict key
        self.half_channels = channels // 2
        self.pre = nn.Conv1d(self.half_channels, hidden_channels, 1)
        self.enc = WaveNetStack(
            hidden_channels, FLOW_KERNEL, FLOW_WAVENET_LAYERS, gin_channels, dilation_rate=1
        )
        self.post = nn.Conv1d(hidden_channels, self.half_channels, 1)

    def _shift(self, first: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        shift: torch.Tensor = self.post(self.enc(self.pre(first), speaker))
        return shift

    def forward(self, x: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        first, second = torch.split(x, [self.half_channels, self.half_channels], dim=1)
        return torch.cat([first, second + self._shift(first, speaker)], dim=1)

    def reverse(self, x: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        first, second = torch.split(x, [self.half_channels, self.half_channels], dim=1)
        return torch.cat([first, second - self._shift(first, speaker)], dim=1)


class ChannelFlip(nn.Module):
    """Reverses the channel order so the next coupling transforms the other half."""

    def forward(self, x: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        return torch.flip(x, [1])

    def reverse(self, x: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        return torch.flip(x, [1])


class CouplingFlow(nn.Module):
    """Couplings alternating with flips (``flows.0``, ``flows.2``, ... hold the weights)."""

    def __init__(self, channels: int, hidden_channels: int, gin_channels: int) -> None:
        super().__init__()
        self.flows = nn.ModuleList()
        self._steps: list[MeanCoupling | ChannelFlip] = []
        for _ in range(COUPLING_LAYERS):
            for step in (MeanCoupling(channels, hidden_channels, gin_channels), ChannelFlip()):
                self.flows.append(step)
                self._steps.append(step)

    def forward(self, z: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        """Posterior latent -> prior space (training)."""
        for step in self._steps:
            z = step(z, speaker)
        return z

    def reverse(self, z: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        for step in reversed(self._steps):
            z = step.reverse(z, speaker)
        return z
