"""FCPE pitch extraction through ``torchfcpe`` (its weights ship inside the wheel)."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np

from engine.convert.params import PitchMethod
from engine.convert.pitch import contour

DECODER = "local_argmax"
THRESHOLD = 0.006
"""RVC's settings for the bundled model."""


class FcpeExtractor:
    method = PitchMethod.FCPE

    def __init__(self, model: Any, device: str) -> None:
        self.model = model
        self.device = device

    @classmethod
    def load(cls, device: str) -> FcpeExtractor:
        from torchfcpe import spawn_bundled_infer_model

        with contextlib.redirect_stdout(io.StringIO()):  # it prints config warnings
            model = spawn_bundled_infer_model(device=device)
        return cls(model, device)

    def extract(self, audio_16k: np.ndarray, frames: int) -> np.ndarray:
        import torch

        audio = torch.from_numpy(np.ascontiguousarray(audio_16k, dtype=np.float32))
        with torch.inference_mode():
            f0 = self.model.infer(
                audio.to(self.device)[None, :, None],
                sr=contour.SAMPLE_RATE,
                decoder_mode=DECODER,
                threshold=THRESHOLD,
                f0_min=contour.F0_MIN,
                f0_max=contour.F0_MAX,
                interp_uv=False,
                output_interp_target_length=max(frames, 1),
            )
        hz = f0.reshape(-1).float().cpu().numpy()[:frames]
        return contour.fit_length(contour.clean(hz), frames)
