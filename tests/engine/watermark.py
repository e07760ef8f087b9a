"""Perth's confidence for a clip, for tests that check outputs carry the mark.

The product only detects through ``Engine.detect_watermark`` (an executor model slot);
tests that already hold samples ask the same detector directly, one per session.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from engine.watermark import detector_confidence, load_detector


@functools.cache
def _detector() -> Any:
    return load_detector()


def watermark_confidence(samples: np.ndarray, sample_rate: int) -> float:
    """Between 0 (no mark) and 1 (marked). Blocking."""
    return detector_confidence(_detector(), samples, sample_rate)
