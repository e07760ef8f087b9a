"""The Perth watermark: put on every output Parrot makes, and found again by ``/detect``.

Cheap to import (numpy and soxr only); Perth itself (torch) loads in an executor slot.
"""

from engine.watermark.detect import (
    PERTH_RATE,
    WATERMARK_THRESHOLD,
    WatermarkCheck,
    detector_confidence,
    load_perth,
)
from engine.watermark.mark import MARK_VERSION, Marker, OutputMarker

__all__ = [
    "MARK_VERSION",
    "PERTH_RATE",
    "WATERMARK_THRESHOLD",
    "Marker",
    "OutputMarker",
    "WatermarkCheck",
    "detector_confidence",
    "load_perth",
]
