"""The HiFi-GAN vocoder, plain or neural-source-filter (NSF: driven by the pitch contour)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from engine.convert.synthesizer.config import SynthesizerConfig
from engine.convert.synthesizer.source import HarmonicSource
from engine.convert.synthesizer.weight_norm import NormedConv1d, NormedConvTranspose1d

LEAKY_SLOPE = 0.1


def _same_padding(kernel_size: int, dilation: int) -> int:
    return (kernel_size * dilation - dilation) // 2


def _conv(channels: int, kernel_size: int, dilation: int) -> NormedConv1d:
    return NormedConv1d(
        channels,
        channels,
        kernel_size,
        dilation=dilation,
        padding=_same_padding(kernel_size, dilation),
    )


class ResidualBlock1(nn.Module):
    """Three residual pairs: a dilated convolution, then an undilated one."""

    def __init__(self, channels: int, kernel_size: int, dilations: Sequence[int]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(_conv(channels, kernel_size, d) for d in dilations)
        self.convs2 = nn.ModuleList(_conv(channels, kernel_size, 1) for _ in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for dilated, plain in zip(self.convs1, self.convs2, strict=True):
            step = dilated(F.leaky_relu(x, LEAKY_SLOPE))
            x = x + plain(F.leaky_relu(step, LEAKY_SLOPE))
        return x


class ResidualBlock2(nn.Module):
    """Residual dilated convolutions, one per dilation."""

    def __init__(self, channels: int, kernel_size: int, dilations: Sequence[int]) -> None:
        super().__init__()
        self.convs = nn.ModuleList(_conv(channels, kernel_size, d) for d in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = x + conv(F.leaky_relu(x, LEAKY_SLOPE))
        return x


class HifiGanGenerator(nn.Module):
    """Latent frames -> waveform: transposed-convolution upsampling and multi-kernel blocks."""

    def __init__(self, config: SynthesizerConfig) -> None:
        super().__init__()
        first = config.upsample_initial_channel
        self.blocks_per_stage = len(config.resblock_kernel_sizes)
        self.conv_pre = nn.Conv1d(config.inter_channels, first, 7, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        block_class = ResidualBlock1 if config.resblock == "1" else ResidualBlock2
        for stage, (rate, kernel) in enumerate(
            zip(config.upsample_rates, config.upsample_kernel_sizes, strict=True)
        ):
            channels = first >> (stage + 1)
            self.ups.append(
                NormedConvTranspose1d(
                    first >> stage, channels, kernel, rate, padding=(kernel - rate) // 2
                )
            )
            for block_kernel, dilations in zip(
                config.resblock_kernel_sizes, config.resblock_dilation_sizes, strict=True
            ):
                self.resblocks.append(block_class(channels, block_kernel, dilations))
        self.conv_post = nn.Conv1d(first >> len(config.upsample_rates), 1, 7, padding=3, bias=False)
        self.cond = nn.Conv1d(config.gin_channels, first, 1)

    def _stage(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        start = stage * self.blocks_per_stage
        blocks = self.resblocks[start : start + self.blocks_per_stage]
        total: torch.Tensor = blocks[0](x)
        for block in blocks[1:]:
            total = total + block(x)
        return total / self.blocks_per_stage

    def _excite(self, stage: int, x: torch.Tensor, excitation: torch.Tensor | None) -> torch.Tensor:
        return x

    def _synthesize(
        self, z: torch.Tensor, speaker: torch.Tensor, excitation: torch.Tensor | None
    ) -> torch.Tensor:
        x = self.conv_pre(z) + self.cond(speaker)
        for stage, upsample in enumerate(self.ups):
            x = upsample(F.leaky_relu(x, LEAKY_SLOPE))
            x = self._stage(stage, self._excite(stage, x, excitation))
        # The last activation uses torch's default slope (0.01), as in RVC.
        return torch.tanh(self.conv_post(F.leaky_relu(x)))

    def forward(
        self,
        z: torch.Tensor,
        speaker: torch.Tensor,
        f0: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        return self._synthesize(z, speaker, None)


class NsfGenerator(HifiGanGenerator):
    """HiFi-GAN whose every stage also receives the sine excitation, downsampled to its rate."""

    def __init__(self, config: SynthesizerConfig) -> None:
        super().__init__(config)
        self.upsample_factor = math.prod(config.upsample_rates)
        self.m_source = HarmonicSource(config.sample_rate)
        self.noise_convs = nn.ModuleList()
        rates = config.upsample_rates
        for stage in range(len(rates)):
            channels = config.upsample_initial_channel >> (stage + 1)
            remaining = math.prod(rates[stage + 1 :])
            if stage + 1 < len(rates):
                conv = nn.Conv1d(
                    1, channels, remaining * 2, stride=remaining, padding=remaining // 2
                )
            else:
                conv = nn.Conv1d(1, channels, 1)
            self.noise_convs.append(conv)

    def _excite(self, stage: int, x: torch.Tensor, excitation: torch.Tensor | None) -> torch.Tensor:
        assert excitation is not None
        noise: torch.Tensor = self.noise_convs[stage](excitation)
        return x + noise

    def forward(
        self,
        z: torch.Tensor,
        speaker: torch.Tensor,
        f0: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        if f0 is None:
            raise ValueError("an NSF vocoder needs the pitch contour in Hz")
        excitation = self.m_source(f0, self.upsample_factor, generator)
        return self._synthesize(z, speaker, excitation)
