"""RVC v2's multi-period discriminator: one scale discriminator plus eight period ones.

Module names give the state-dict keys of RVC's ``f0D40k.pth`` (``discriminators.0`` is
the scale discriminator, ``discriminators.1..8`` the periods 2..37) once weight norm is
handled (:mod:`engine.training.norms`). ``width_divisor`` narrows every layer for tests
and keeps the keys; 1 is the real network.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.convert.synthesizer.weight_norm import NormedConv1d, NormedConv2d

PERIODS = (2, 3, 5, 7, 11, 17, 23, 37)
LEAKY_SLOPE = 0.1
SCALE_CHANNELS = (16, 64, 256, 1024, 1024, 1024)
SCALE_GROUPS = (1, 4, 16, 64, 256, 1)
PERIOD_CHANNELS = (32, 128, 512, 1024, 1024)
PERIOD_KERNEL = 5
PERIOD_STRIDE = 3

Scores = list[torch.Tensor]
FeatureMaps = list[list[torch.Tensor]]


class ScaleDiscriminator(nn.Module):
    """Strided grouped 1-d convolutions over the raw waveform."""

    def __init__(self, width_divisor: int = 1) -> None:
        super().__init__()
        channels = [max(1, c // width_divisor) for c in SCALE_CHANNELS]
        groups = [max(1, g // width_divisor) for g in SCALE_GROUPS]
        kernels = (15, 41, 41, 41, 41, 5)
        strides = (1, 4, 4, 4, 4, 1)
        self.convs = nn.ModuleList()
        previous = 1
        for out, kernel, stride, group in zip(channels, kernels, strides, groups, strict=True):
            self.convs.append(
                NormedConv1d(previous, out, kernel, stride, groups=group, padding=kernel // 2)
            )
            previous = out
        self.conv_post = NormedConv1d(previous, 1, 3, 1, padding=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        maps = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LEAKY_SLOPE)
            maps.append(x)
        x = self.conv_post(x)
        maps.append(x)
        return torch.flatten(x, 1, -1), maps


class PeriodDiscriminator(nn.Module):
    """The waveform folded into rows of ``period`` samples, convolved down the columns."""

    def __init__(self, period: int, width_divisor: int = 1) -> None:
        super().__init__()
        self.period = period
        channels = [max(1, c // width_divisor) for c in PERIOD_CHANNELS]
        self.convs = nn.ModuleList()
        previous = 1
        for index, out in enumerate(channels):
            stride = PERIOD_STRIDE if index < len(channels) - 1 else 1
            self.convs.append(
                NormedConv2d(
                    previous,
                    out,
                    (PERIOD_KERNEL, 1),
                    (stride, 1),
                    padding=(PERIOD_KERNEL // 2, 0),
                )
            )
            previous = out
        self.conv_post = NormedConv2d(previous, 1, (3, 1), 1, padding=(1, 0))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        batch, channels, length = x.shape
        if length % self.period:
            extra = self.period - length % self.period
            x = F.pad(x, (0, extra), "reflect")
            length += extra
        x = x.view(batch, channels, length // self.period, self.period)
        maps = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LEAKY_SLOPE)
            maps.append(x)
        x = self.conv_post(x)
        maps.append(x)
        return torch.flatten(x, 1, -1), maps


class MultiPeriodDiscriminator(nn.Module):
    def __init__(self, width_divisor: int = 1) -> None:
        super().__init__()
        self.width_divisor = width_divisor
        self.discriminators = nn.ModuleList(
            [ScaleDiscriminator(width_divisor)]
            + [PeriodDiscriminator(period, width_divisor) for period in PERIODS]
        )

    def forward(
        self, real: torch.Tensor, fake: torch.Tensor
    ) -> tuple[Scores, Scores, FeatureMaps, FeatureMaps]:
        """(batch, 1, samples) real and generated audio -> scores and feature maps of each.

        Both go through each sub-discriminator as one batch (fewer, larger kernels).
        """
        both = torch.cat([real, fake], dim=0)
        real_scores, fake_scores, real_maps, fake_maps = [], [], [], []
        for discriminator in self.discriminators:
            scores, maps = discriminator(both)
            real_score, fake_score = scores.chunk(2, dim=0)
            real_scores.append(real_score)
            fake_scores.append(fake_score)
            halves = [layer.chunk(2, dim=0) for layer in maps]
            real_maps.append([half[0] for half in halves])
            fake_maps.append([half[1] for half in halves])
        return real_scores, fake_scores, real_maps, fake_maps
