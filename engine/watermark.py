"""Perth watermark detection: does a clip carry the mark every Chatterbox output gets.

The engine runs the detector in an executor model slot (:meth:`Engine.detect_watermark`);
nothing else in the product loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

WATERMARK_THRESHOLD = 0.5
"""Confidence from which a clip counts as marked."""


@dataclass(frozen=True, slots=True)
class WatermarkCheck:
    """What :meth:`Engine.detect_watermark` found in a clip."""

    confidence: float
    """Between 0 (no mark) and 1 (marked)."""

    @property
    def found(self) -> bool:
        return self.confidence >= WATERMARK_THRESHOLD


def load_detector() -> Any:
    """A Perth detector (blocking; deferred import: perth pulls in torch)."""
    import perth  # deferred: imports torch

    return perth.PerthImplicitWatermarker()


def detector_confidence(detector: Any, samples: np.ndarray, sample_rate: int) -> float:
    """``detector``'s confidence that ``samples`` carry the mark, between 0 and 1."""
    value = detector.get_watermark(np.asarray(samples, dtype=np.float32), sample_rate, round=False)
    return float(np.clip(np.mean(value), 0.0, 1.0))
