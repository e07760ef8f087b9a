"""What every pitch extractor provides."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from engine.convert.params import PitchMethod


class PitchExtractor(Protocol):
    method: PitchMethod

    def extract(self, audio_16k: np.ndarray, frames: int) -> np.ndarray:
        """float32 mono at 16 kHz -> ``frames`` values in Hz at 100 frames/s (0 = unvoiced),
        cleaned to 50..1100 Hz (see :func:`engine.convert.pitch.contour.clean`)."""
        ...
