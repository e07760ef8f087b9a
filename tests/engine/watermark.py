"""Perth's confidence for a clip, for tests that check outputs carry the mark.

The product only detects through ``Engine.detect_watermark`` (an executor model slot);
tests that already hold samples ask the same detector directly, one per session.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from engine.audio import decode
from engine.watermark import PERTH_RATE, detector_confidence, load_perth


@functools.cache
def _detector() -> Any:
    return load_perth()


def watermark_confidence(samples: np.ndarray, sample_rate: int) -> float:
    """Between 0 (no mark) and 1 (marked). Blocking."""
    return detector_confidence(_detector(), samples, sample_rate)


def file_confidence(path: Path) -> float:
    """Perth's confidence on an audio file as written or posted (decoded by ffmpeg)."""
    audio = decode(path, sample_rate=PERTH_RATE, max_bytes=2**27, max_seconds=900.0)
    return watermark_confidence(audio.samples, audio.sample_rate)
