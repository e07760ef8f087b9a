"""Perth itself, and detection: does a clip carry the mark every Parrot output gets.

The engine runs Perth in an executor model slot (:meth:`Engine.detect_watermark`,
:class:`engine.watermark.mark.OutputMarker`); nothing else in the product loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

WATERMARK_THRESHOLD = 0.5
"""Confidence from which a clip counts as marked."""
PERTH_RATE = 32_000
"""The rate Perth's network works at (its hparams); its mark lives below 2 kHz."""


@dataclass(frozen=True, slots=True)
class WatermarkCheck:
    """What :meth:`Engine.detect_watermark` found in a clip."""

    confidence: float
    """Between 0 (no mark) and 1 (marked)."""

    @property
    def found(self) -> bool:
        return self.confidence >= WATERMARK_THRESHOLD


def load_perth(device: str = "cpu") -> Any:
    """Perth's implicit watermarker, which both marks and detects (blocking)."""
    import perth  # deferred: imports torch

    marker = perth.PerthImplicitWatermarker(device=device)
    if marker is None:  # pragma: no cover - perth sets it to None without pkg_resources
        raise RuntimeError("Perth watermarker unavailable: install setuptools<81")
    return marker


def detector_confidence(detector: Any, samples: np.ndarray, sample_rate: int) -> float:
    """``detector``'s confidence that ``samples`` (mono) carry the mark, between 0 and 1."""
    value = detector.get_watermark(np.asarray(samples, dtype=np.float32), sample_rate, round=False)
    return float(np.clip(np.mean(value), 0.0, 1.0))
