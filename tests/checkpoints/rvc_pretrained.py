"""Random "pretrained" RVC v2 40k generator and discriminator, in RVC's own file format.

Like ``pretrained_v2/f0G40k.pth`` and ``f0D40k.pth``: ``{"model": state_dict}`` in fp16,
weight norm split into ``weight_g``/``weight_v``, ``enc_q`` included. ``tiny`` narrows
every layer (same keys, same structure) so that CPU tests train in seconds; the real
size is for the benchmark.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.checkpoints.cache import build_once, versions_key
from tests.checkpoints.rvc import small_values, standard_values, synthesizer_config

GENERATOR_NAME = "f0G40k.pth"
DISCRIMINATOR_NAME = "f0D40k.pth"
TINY_DISCRIMINATOR_DIVISOR = 16
_SEED = 1234


def _values(tiny: bool) -> list[Any]:
    return small_values("v2", 40_000, 109) if tiny else standard_values("v2", 40_000)


def network_config(tiny: bool) -> Any:
    from engine.training.network import NetworkConfig  # deferred: imports torch

    divisor = TINY_DISCRIMINATOR_DIVISOR if tiny else 1
    return NetworkConfig(synthesizer_config(_values(tiny), "v2", True), divisor)


def _save_legacy(module: Any, path: Path) -> None:
    import torch

    from engine.training.norms import apply_weight_norm, to_legacy_keys

    state = to_legacy_keys(apply_weight_norm(module).state_dict())
    torch.save({"model": {key: value.detach().half() for key, value in state.items()}}, path)


def _builder(tiny: bool) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        import torch

        from engine.training.discriminator import MultiPeriodDiscriminator
        from engine.training.network import TrainableSynthesizer

        config = network_config(tiny)
        torch.manual_seed(_SEED)
        generator = TrainableSynthesizer(config)
        with torch.no_grad():  # HiFi-GAN's init: keeps the untrained vocoder's output tame
            for name, parameter in generator.named_parameters():
                if name.startswith("dec.") and name.endswith("weight") and parameter.dim() == 3:
                    parameter.normal_(0.0, 0.01)
        _save_legacy(generator, folder / GENERATOR_NAME)
        _save_legacy(
            MultiPeriodDiscriminator(config.discriminator_width_divisor),
            folder / DISCRIMINATOR_NAME,
        )

    return build


def rvc_pretrained(tiny: bool = True) -> tuple[Path, Path]:
    """Cached (generator, discriminator) paths; tiny ones are under 1 MB, real ones 215 MB."""
    size = "tiny" if tiny else "real"
    key = versions_key("torch", extra=f"rvc-pretrained-{size}-v1")
    folder = build_once(f"rvc-pretrained-{size}", key, _builder(tiny))
    return folder / GENERATOR_NAME, folder / DISCRIMINATOR_NAME
