"""RVC's inference network, written for Parrot, loading RVC's own exports."""

from engine.convert.info import RvcVersion
from engine.convert.synthesizer.config import CONFIG_LENGTH, ConfigError, SynthesizerConfig
from engine.convert.synthesizer.model import Synthesizer
from engine.convert.synthesizer.weight_norm import (
    fold_weight_norm,
    normed_layer_names,
    split_weight_norm,
)

__all__ = [
    "CONFIG_LENGTH",
    "ConfigError",
    "RvcVersion",
    "Synthesizer",
    "SynthesizerConfig",
    "fold_weight_norm",
    "normed_layer_names",
    "split_weight_norm",
]
