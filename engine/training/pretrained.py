"""Loading RVC's standard pretrained generator and discriminator (``f0G40k``/``f0D40k``).

RVC stores each as ``{"model": state_dict}`` with weight norm split into
``weight_g``/``weight_v``. The network's shape is read from the generator's own tensors
(a narrow test file builds a narrow network), then every key and shape is checked, so a
wrong file (a v1 or 48 kHz one, an export, a discriminator in the generator's place) is
refused with what it is.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.convert.info import RvcVersion
from engine.convert.synthesizer import SynthesizerConfig
from engine.training.discriminator import SCALE_CHANNELS, MultiPeriodDiscriminator
from engine.training.errors import TrainingCheckpointError
from engine.training.network import NetworkConfig, TrainableSynthesizer
from engine.training.norms import apply_weight_norm, from_legacy_keys, to_legacy_keys
from engine.training.params import TRAINING_SAMPLE_RATE

UPSAMPLE_RATES_40K = (10, 10, 2, 2)
UPSAMPLE_KERNELS_40K = (16, 16, 4, 4)
DILATIONS = {"1": (1, 3, 5), "2": (1, 3)}
_LISTED = 4

State = dict[str, torch.Tensor]


@dataclass(frozen=True, eq=False, slots=True)
class PretrainedWeights:
    """Both networks' weights, keyed for modules built with weight norm applied."""

    config: NetworkConfig
    generator: State
    discriminator: State


def _fail(path: Path, problem: str) -> TrainingCheckpointError:
    return TrainingCheckpointError(f"{path.name} is not a usable RVC pretrained file: {problem}")


def _listed(keys: set[str]) -> str:
    ordered = sorted(keys)
    more = len(ordered) - _LISTED
    return ", ".join(ordered[:_LISTED]) + (f" and {more} more" if more > 0 else "")


def read_state(path: Path) -> State:
    """The legacy-keyed state dict in an RVC pretrained (or G_/D_ checkpoint) file, in its
    stored precision (fp16 for RVC's own files; loading into the networks casts it)."""
    if not path.is_file():
        raise TrainingCheckpointError(f"{path} does not exist or is not a file")
    try:
        payload: Any = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise _fail(path, f"PyTorch could not read it safely ({first})") from None
    if isinstance(payload, dict) and "weight" in payload and "config" in payload:
        raise _fail(path, "it is an exported voice model, not a pretrained training network")
    if isinstance(payload, dict) and isinstance(payload.get("model"), dict):
        payload = payload["model"]
    if not isinstance(payload, dict) or not payload:
        raise _fail(path, f"it holds a {type(payload).__name__}, not {{'model': state_dict}}")
    if not all(isinstance(v, torch.Tensor) for v in payload.values()):
        raise _fail(path, "its 'model' entry is not a state dict of tensors")
    return {str(key): value for key, value in payload.items()}


def _shape(path: Path, state: State, layer: str) -> tuple[int, ...]:
    for suffix in (".weight", ".weight_v", ".parametrizations.weight.original1"):
        if layer + suffix in state:
            return tuple(state[layer + suffix].shape)
    raise _fail(path, f"it has no {layer} weights (is it the generator f0G40k.pth?)")


def _count(state: State, pattern: str) -> int:
    regex = re.compile(pattern)
    return len({match.group(1) for key in state if (match := regex.match(key))})


def generator_config(path: Path, state: State) -> SynthesizerConfig:
    """The synthesizer a pretrained generator describes; refuses anything but v2 40 kHz f0."""
    if any(key.startswith("discriminators.") for key in state):
        raise _fail(path, "it is a discriminator; the generator is f0G40k.pth")
    hidden, content_dim = _shape(path, state, "enc_p.emb_phone")
    if content_dim != RvcVersion.V2.content_dim:
        raise _fail(path, f"it reads {content_dim}-d features (v1); use the v2 f0G40k.pth")
    if "enc_p.emb_pitch.weight" not in state:
        raise _fail(path, "it has no pitch embedding (G40k.pth); use the pitch-guided f0G40k.pth")
    stages = _count(state, r"dec\.ups\.(\d+)\.")
    kernels = tuple(_shape(path, state, f"dec.ups.{i}")[-1] for i in range(stages))
    if kernels != UPSAMPLE_KERNELS_40K:
        raise _fail(path, f"its vocoder (upsample kernels {list(kernels)}) is not the 40 kHz one")
    resblock = "1" if any(".convs1." in key for key in state) else "2"
    blocks = _count(state, r"dec\.resblocks\.(\d+)\.") // stages
    first = "convs1" if resblock == "1" else "convs"
    block_kernels = tuple(
        _shape(path, state, f"dec.resblocks.{j}.{first}.0")[-1] for j in range(blocks)
    )
    inter = _shape(path, state, "enc_p.proj")[0] // 2
    filter_channels, _, kernel_size = _shape(path, state, "enc_p.encoder.ffn_layers.0.conv_1")
    head_dim = state["enc_p.encoder.attn_layers.0.emb_rel_k"].shape[-1]
    speakers, gin = _shape(path, state, "emb_g")
    return SynthesizerConfig(
        version=RvcVersion.V2,
        has_f0=True,
        sample_rate=TRAINING_SAMPLE_RATE,
        inter_channels=inter,
        hidden_channels=hidden,
        filter_channels=filter_channels,
        n_heads=hidden // head_dim,
        n_layers=_count(state, r"enc_p\.encoder\.attn_layers\.(\d+)\."),
        kernel_size=kernel_size,
        resblock=resblock,
        resblock_kernel_sizes=block_kernels,
        resblock_dilation_sizes=tuple(DILATIONS[resblock] for _ in block_kernels),
        upsample_rates=UPSAMPLE_RATES_40K,
        upsample_initial_channel=_shape(path, state, "dec.conv_pre")[0],
        upsample_kernel_sizes=kernels,
        speakers=speakers,
        gin_channels=gin,
    )


def discriminator_divisor(path: Path, state: State) -> int:
    if any(key.startswith("enc_p.") for key in state):
        raise _fail(path, "it is a generator; the discriminator is f0D40k.pth")
    first = _shape(path, state, "discriminators.0.convs.0")[0]
    if first <= 0 or SCALE_CHANNELS[0] % first:
        raise _fail(path, f"its first layer has {first} channels, not a divisor of 16")
    return SCALE_CHANNELS[0] // first


def expected_state(module: nn.Module) -> dict[str, tuple[int, ...]]:
    """Legacy keys and shapes of ``module`` (with weight norm applied)."""
    return {k: tuple(v.shape) for k, v in to_legacy_keys(module.state_dict()).items()}


def check_keys(path: Path, expected: Mapping[str, tuple[int, ...]], state: State) -> None:
    missing = expected.keys() - state.keys()
    unexpected = state.keys() - expected.keys()
    if missing or unexpected:
        parts = [f"missing {len(missing)} ({_listed(missing)})"] if missing else []
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected ({_listed(unexpected)})")
        raise _fail(path, "its weights do not fit RVC v2 40k: " + "; ".join(parts))
    wrong = [
        f"{key} is {list(state[key].shape)}, expected {list(shape)}"
        for key, shape in expected.items()
        if tuple(state[key].shape) != shape
    ]
    if wrong:
        raise _fail(path, "weight shapes do not fit: " + "; ".join(wrong[:3]))


def load_pretrained(generator_path: Path, discriminator_path: Path) -> PretrainedWeights:
    """Read, identify and check both files (networks are built on the meta device only)."""
    generator_state = read_state(generator_path)
    discriminator_state = read_state(discriminator_path)
    config = NetworkConfig(
        generator_config(generator_path, generator_state),
        discriminator_divisor(discriminator_path, discriminator_state),
    )
    with torch.device("meta"):
        generator = apply_weight_norm(TrainableSynthesizer(config))
        discriminator = apply_weight_norm(
            MultiPeriodDiscriminator(config.discriminator_width_divisor)
        )
    legacy_generator = to_legacy_keys(from_legacy_keys(generator_state))
    check_keys(generator_path, expected_state(generator), legacy_generator)
    check_keys(discriminator_path, expected_state(discriminator), discriminator_state)
    return PretrainedWeights(
        config, from_legacy_keys(legacy_generator), from_legacy_keys(discriminator_state)
    )
