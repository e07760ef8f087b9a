"""The synthesizer's hyper-parameters, read from the 18 positional values of an RVC export."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.convert.info import RvcVersion

CONFIG_LENGTH = 18
"""spec_channels, segment_size, inter, hidden, filter, heads, layers, kernel, dropout, resblock,
resblock kernels, resblock dilations, upsample rates, upsample channels, upsample kernels,
speakers, speaker-embedding width, sample rate."""


class ConfigError(ValueError):
    """The positional config does not describe a synthesizer we can build."""


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return value


def _int_tuple(name: str, value: Any) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise ConfigError(f"{name} must be a non-empty list, got {value!r}")
    return tuple(_positive_int(name, item) for item in value)


@dataclass(frozen=True, slots=True)
class SynthesizerConfig:
    """Everything that shapes the inference network (training-only values are dropped)."""

    version: RvcVersion
    has_f0: bool
    sample_rate: int
    inter_channels: int
    hidden_channels: int
    filter_channels: int
    n_heads: int
    n_layers: int
    kernel_size: int
    resblock: str
    resblock_kernel_sizes: tuple[int, ...]
    resblock_dilation_sizes: tuple[tuple[int, ...], ...]
    upsample_rates: tuple[int, ...]
    upsample_initial_channel: int
    upsample_kernel_sizes: tuple[int, ...]
    speakers: int
    gin_channels: int

    @property
    def content_dim(self) -> int:
        return self.version.content_dim

    @property
    def hop_length(self) -> int:
        """Output samples per 10 ms content frame."""
        return math.prod(self.upsample_rates)

    @classmethod
    def from_positional(
        cls, values: Sequence[Any], version: RvcVersion, has_f0: bool, speakers: int
    ) -> SynthesizerConfig:
        """Parse an export's ``config`` list; ``speakers`` overrides its speaker count."""
        if not isinstance(values, list | tuple) or len(values) != CONFIG_LENGTH:
            length = len(values) if isinstance(values, list | tuple) else type(values).__name__
            raise ConfigError(f"'config' must be a list of {CONFIG_LENGTH} values, got {length}")
        resblock = str(values[9])
        if resblock not in ("1", "2"):
            raise ConfigError(f"resblock type must be '1' or '2', got {values[9]!r}")
        dilations = values[11]
        if not isinstance(dilations, list | tuple) or not dilations:
            raise ConfigError(f"resblock dilations must be a list of lists, got {dilations!r}")
        config = cls(
            version=version,
            has_f0=has_f0,
            sample_rate=_positive_int("sample rate", values[17]),
            inter_channels=_positive_int("inter_channels", values[2]),
            hidden_channels=_positive_int("hidden_channels", values[3]),
            filter_channels=_positive_int("filter_channels", values[4]),
            n_heads=_positive_int("n_heads", values[5]),
            n_layers=_positive_int("n_layers", values[6]),
            kernel_size=_positive_int("kernel_size", values[7]),
            resblock=resblock,
            resblock_kernel_sizes=_int_tuple("resblock kernel sizes", values[10]),
            resblock_dilation_sizes=tuple(
                _int_tuple("resblock dilations", item) for item in dilations
            ),
            upsample_rates=_int_tuple("upsample rates", values[12]),
            upsample_initial_channel=_positive_int("upsample_initial_channel", values[13]),
            upsample_kernel_sizes=_int_tuple("upsample kernel sizes", values[14]),
            speakers=_positive_int("speaker count", speakers),
            gin_channels=_positive_int("gin_channels", values[16]),
        )
        config._check_consistency()
        return config

    def _check_consistency(self) -> None:
        if len(self.resblock_kernel_sizes) != len(self.resblock_dilation_sizes):
            raise ConfigError("resblock kernel sizes and dilations differ in length")
        if len(self.upsample_rates) != len(self.upsample_kernel_sizes):
            raise ConfigError("upsample rates and kernel sizes differ in length")
        if self.hidden_channels % self.n_heads:
            raise ConfigError("hidden_channels must be divisible by n_heads")
        if self.inter_channels % 2:
            raise ConfigError("inter_channels must be even (the flow splits it in halves)")
        if self.upsample_initial_channel >> len(self.upsample_rates) == 0:
            raise ConfigError("upsample_initial_channel is too small for that many upsamplings")
        if self.hop_length * 100 != self.sample_rate:
            raise ConfigError(
                f"the upsample rates {list(self.upsample_rates)} make {self.hop_length} samples "
                f"per 10 ms frame, which does not fit a {self.sample_rate} Hz model "
                f"(needs {self.sample_rate // 100})"
            )

    def to_positional(self, spec_channels: int = 1025, segment_size: int = 32) -> list[Any]:
        """The 18-value list RVC writes into an export (training-only values as given)."""
        return [
            spec_channels,
            segment_size,
            self.inter_channels,
            self.hidden_channels,
            self.filter_channels,
            self.n_heads,
            self.n_layers,
            self.kernel_size,
            0,
            self.resblock,
            list(self.resblock_kernel_sizes),
            [list(item) for item in self.resblock_dilation_sizes],
            list(self.upsample_rates),
            self.upsample_initial_channel,
            list(self.upsample_kernel_sizes),
            self.speakers,
            self.gin_channels,
            self.sample_rate,
        ]
