"""Perth watermark detection: does a clip carry the mark every Chatterbox output gets."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

_local = threading.local()


def _detector() -> Any:
    detector = getattr(_local, "detector", None)
    if detector is None:
        import perth

        detector = perth.PerthImplicitWatermarker()
        _local.detector = detector
    return detector


def watermark_confidence(samples: np.ndarray, sample_rate: int) -> float:
    """Between 0 (no mark) and 1 (marked). Blocking: call it off the event loop."""
    value = _detector().get_watermark(
        np.asarray(samples, dtype=np.float32), sample_rate, round=False
    )
    return float(np.clip(np.mean(value), 0.0, 1.0))


def has_watermark(samples: np.ndarray, sample_rate: int, threshold: float = 0.5) -> bool:
    return watermark_confidence(samples, sample_rate) >= threshold
