"""Writing a trained generator as a standard RVC inference file (WebUI and Applio load it).

The file is RVC's own export: ``weight`` (fp16, no ``enc_q``, weight norm as
``weight_g``/``weight_v``), the 18-value ``config`` ending in the sample rate, ``info``
(``"<N>epoch"``), ``sr`` ``"40k"``, ``f0`` 1 and ``version`` ``"v2"``.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch

from engine.files import atomic_writer
from engine.training.network import TrainableSynthesizer
from engine.training.norms import to_legacy_keys

TRAINING_ONLY_PREFIX = "enc_q."
SAMPLE_RATE_LABEL = "40k"


def export_payload(generator: TrainableSynthesizer, epochs: int) -> dict[str, Any]:
    config = generator.network_config
    state = to_legacy_keys(generator.state_dict())
    payload: dict[str, Any] = OrderedDict()
    payload["weight"] = {
        key: value.detach().to("cpu", torch.float16).clone()
        for key, value in state.items()
        if not key.startswith(TRAINING_ONLY_PREFIX)
    }
    payload["config"] = config.synthesizer.to_positional(
        spec_channels=config.spec_channels, segment_size=config.segment_frames
    )
    payload["info"] = f"{epochs}epoch"
    payload["sr"] = SAMPLE_RATE_LABEL
    payload["f0"] = 1
    payload["version"] = "v2"
    return payload


def write_payload(payload: dict[str, Any], destination: Path) -> Path:
    """Save atomically: ``destination`` is absent or complete, never half-written."""
    with atomic_writer(destination) as handle:
        torch.save(payload, handle)
    return destination


def write_export(generator: TrainableSynthesizer, destination: Path, epochs: int) -> Path:
    return write_payload(export_payload(generator, epochs), destination)
