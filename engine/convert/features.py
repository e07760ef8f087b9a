"""Content features: what is said, without who says it (HuBERT-base / ContentVec).

The encoder runs on 16 kHz audio and yields 50 frames/s. RVC v2 reads the last (12th)
layer, 768-d; v1 reads layer 9 through ContentVec's ``final_proj``, 256-d. transformers'
``hidden_states[9]``/``last_hidden_state`` equal fairseq's output layers 9/12.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from engine.convert.errors import ContentEncoderError
from engine.convert.synthesizer import RvcVersion

V1_LAYER = 9
HIDDEN_SIZE = 768
NORMALIZE_EPSILON = 1e-7


def _wants_normalized_input(folder: Path) -> bool:
    """ContentVec and HuBERT-base take raw samples; honour a preprocessor that says otherwise."""
    config = folder / "preprocessor_config.json"
    if not config.is_file():
        return False
    try:
        return bool(json.loads(config.read_text()).get("do_normalize", False))
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def _no_progress_bars() -> Iterator[None]:
    """transformers draws a bar per load; a bot's log is no place for it."""
    from transformers.utils import logging as transformers_logging

    was_enabled = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # transformers leaves it unannotated
    try:
        yield
    finally:
        if was_enabled:
            transformers_logging.enable_progress_bar()  # type: ignore[no-untyped-call]  # transformers leaves it unannotated


class ContentFeatures:
    def __init__(self, model: Any, device: str, *, normalize: bool, has_projection: bool) -> None:
        self.model = model
        self.device = device
        self.normalize = normalize
        self.has_projection = has_projection
        self.layers = int(model.config.num_hidden_layers)

    @classmethod
    def load(cls, folder: Path, device: str) -> ContentFeatures:
        """Load a transformers HuBERT folder (config.json + weights), ``final_proj`` optional."""
        # deferred: imports torch and transformers' HuBERT
        from engine.convert.content_model import HubertWithProjection

        folder = Path(folder)
        if not (folder / "config.json").is_file():
            raise ContentEncoderError(f"{folder} has no config.json: not a transformers model")
        try:
            with _no_progress_bars():
                # output_loading_info=True returns (model, info); the stub only knows the model
                model, report = cast(
                    "tuple[HubertWithProjection, dict[str, Any]]",
                    HubertWithProjection.from_pretrained(
                        folder, local_files_only=True, output_loading_info=True
                    ),
                )
        except (OSError, ValueError, RuntimeError) as error:
            raise ContentEncoderError(
                f"cannot load the content encoder in {folder}: {error}"
            ) from None
        if int(model.config.hidden_size) != HIDDEN_SIZE:
            raise ContentEncoderError(
                f"the content encoder in {folder} has hidden size {model.config.hidden_size}; "
                f"RVC needs HuBERT-base / ContentVec ({HIDDEN_SIZE})"
            )
        missing = [key for key in report.get("missing_keys", []) if "final_proj" not in key]
        if missing:
            raise ContentEncoderError(
                f"the content encoder in {folder} lacks weights: {', '.join(sorted(missing)[:3])}"
            )
        has_projection = not any("final_proj" in key for key in report.get("missing_keys", []))
        # through nn.Module: transformers wraps PreTrainedModel.to and the wrapper's type
        # does not bind self; the call still dispatches to transformers' override
        encoder: torch.nn.Module = model
        encoder = encoder.to(device).eval().requires_grad_(False)
        return cls(
            encoder,
            device,
            normalize=_wants_normalized_input(folder),
            has_projection=has_projection,
        )

    def check_supports(self, version: RvcVersion) -> None:
        if version is RvcVersion.V1 and not self.has_projection:
            raise ContentEncoderError(
                "RVC v1 voices need ContentVec's final_proj layer, which this content "
                "encoder lacks (use lengyue233/content-vec-best)"
            )
        if version is RvcVersion.V1 and self.layers < V1_LAYER:
            raise ContentEncoderError(
                f"RVC v1 reads layer {V1_LAYER}; the encoder has {self.layers}"
            )

    @torch.inference_mode()
    def extract(self, audio_16k: np.ndarray, version: RvcVersion) -> torch.Tensor:
        """float32 mono 16 kHz -> (frames, 256 | 768) on the device, 50 frames/s."""
        self.check_supports(version)
        samples = torch.from_numpy(np.ascontiguousarray(audio_16k, dtype=np.float32))
        samples = samples.to(self.device).unsqueeze(0)
        if self.normalize:
            samples = (samples - samples.mean()) / torch.sqrt(samples.var() + NORMALIZE_EPSILON)
        if version is RvcVersion.V1:
            output = self.model(samples, output_hidden_states=True)
            features = self.model.final_proj(output.hidden_states[V1_LAYER])
        else:
            features = self.model(samples).last_hidden_state
        result: torch.Tensor = features[0].float()
        return result
