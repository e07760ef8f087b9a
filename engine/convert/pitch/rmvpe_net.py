"""The RMVPE network: a U-Net over the log-mel spectrogram, a bidirectional GRU, 360 bins.

Attribute names reproduce the key layout of the published ``rmvpe.pt`` state dict
(``unet.encoder.layers.N.conv.M.conv.K``, ``fc.0.gru``, ``fc.1``, ...), so it loads as is.
Fixed sizes: 128 mel bands, 5 encoder/decoder stages starting at 16 channels, 4
intermediate stages, 4 residual blocks per stage, 2x2 pooling.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MEL_BANDS = 128
PITCH_BINS = 360
STAGES = 5
MIDDLE_STAGES = 4
BLOCKS_PER_STAGE = 4
FIRST_CHANNELS = 16
BN_MOMENTUM = 0.01
GRU_HIDDEN = 256
FRAME_MULTIPLE = 2**STAGES
"""The U-Net halves the time axis five times: inputs are padded to a multiple of 32 frames."""


def _conv_bn_relu(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels, momentum=BN_MOMENTUM),
        nn.ReLU(),
    ]


class ResidualConvBlock(nn.Module):
    """Two 3x3 conv-BN-ReLU layers plus a (1x1-projected when widths differ) shortcut."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            *_conv_bn_relu(in_channels, out_channels), *_conv_bn_relu(out_channels, out_channels)
        )
        self.shortcut = (
            nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = x if self.shortcut is None else self.shortcut(x)
        out: torch.Tensor = self.conv(x) + skip
        return out


def _blocks(in_channels: int, out_channels: int) -> nn.ModuleList:
    blocks = [ResidualConvBlock(in_channels, out_channels)]
    blocks += [ResidualConvBlock(out_channels, out_channels) for _ in range(BLOCKS_PER_STAGE - 1)]
    return nn.ModuleList(blocks)


class ConvStage(nn.Module):
    """A run of residual blocks (``conv.N``)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = _blocks(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.conv:
            x = block(x)
        return x


class UpStage(nn.Module):
    """Transposed-conv upsampling, concatenation with the skip, residual blocks."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.ConvTranspose2d(
                in_channels,
                out_channels,
                3,
                stride=2,
                padding=1,
                output_padding=1,
                bias=False,
            ),
            nn.BatchNorm2d(out_channels, momentum=BN_MOMENTUM),
            nn.ReLU(),
        )
        self.conv2 = _blocks(out_channels * 2, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = torch.cat([self.conv1(x), skip], dim=1)
        for block in self.conv2:
            x = block(x)
        return x


class DownPath(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(1, momentum=BN_MOMENTUM)
        widths = [1] + [FIRST_CHANNELS << stage for stage in range(STAGES)]
        self.layers = nn.ModuleList(ConvStage(widths[i], widths[i + 1]) for i in range(STAGES))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        skips: list[torch.Tensor] = []
        x = self.bn(x)
        for stage in self.layers:
            x = stage(x)
            skips.append(x)
            x = F.avg_pool2d(x, 2)
        return x, skips


class MiddlePath(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        width = FIRST_CHANNELS << STAGES
        self.layers = nn.ModuleList(
            ConvStage(width // 2 if index == 0 else width, width) for index in range(MIDDLE_STAGES)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for stage in self.layers:
            x = stage(x)
        return x


class UpPath(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        width = FIRST_CHANNELS << STAGES
        self.layers = nn.ModuleList(UpStage(width >> i, width >> (i + 1)) for i in range(STAGES))

    def forward(self, x: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        for stage, skip in zip(self.layers, reversed(skips), strict=True):
            x = stage(x, skip)
        return x


class PitchUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = DownPath()
        self.intermediate = MiddlePath()
        self.decoder = UpPath()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, skips = self.encoder(x)
        decoded: torch.Tensor = self.decoder(self.intermediate(x), skips)
        return decoded


class BiGru(nn.Module):
    def __init__(self, in_features: int, hidden: int) -> None:
        super().__init__()
        self.gru = nn.GRU(in_features, hidden, num_layers=1, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output: torch.Tensor = self.gru(x)[0]
        return output


class RmvpeNetwork(nn.Module):
    """log-mel (batch, 128, frames), frames a multiple of 32 -> salience (batch, frames, 360)."""

    def __init__(self) -> None:
        super().__init__()
        self.unet = PitchUNet()
        self.cnn = nn.Conv2d(FIRST_CHANNELS, 3, 3, padding=1)
        self.fc = nn.ModuleList(
            [BiGru(3 * MEL_BANDS, GRU_HIDDEN), nn.Linear(2 * GRU_HIDDEN, PITCH_BINS)]
        )

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.cnn(self.unet(mel.transpose(1, 2).unsqueeze(1)))
        x = x.transpose(1, 2).flatten(-2)
        return torch.sigmoid(self.fc[1](self.fc[0](x)))
