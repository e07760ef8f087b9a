"""The finished cover, marked and encoded so that the file people receive carries the mark.

The mark is put on after the mix and loudness, then the encoded file is read back the way
``/detect`` reads it. A file whose mark reads weak (an encoder dropped part of it) is
marked again more strongly and encoded again; after the last strength the cover is still
delivered, with a note, rather than failed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from engine.cover.encode import EncodedFile
from engine.cover.output import encode_in
from engine.cover.params import CoverParams
from engine.separate.stems import Track
from engine.watermark import Marker

log = logging.getLogger(__name__)

MARK_TARGET = 0.8
"""Confidence the delivered file must read: above ``/detect``'s 0.5, with room for the
re-encodes a file meets after Parrot (measured in ``bench/watermark.py``)."""
MARK_STRENGTHS = (1.0, 1.6, 2.5)
"""How strongly to mark on each try (what Perth adds, scaled)."""


@dataclass(frozen=True, slots=True)
class MarkedFile:
    encoded: EncodedFile
    confidence: float
    """What the detector reads on the encoded file."""
    strength: float


async def encode_marked(
    marker: Marker, track: Track, params: CoverParams, folder: Path
) -> MarkedFile:
    """``track`` marked and encoded within ``params.max_bytes`` into the scratch ``folder``."""
    result: MarkedFile | None = None
    for attempt, strength in enumerate(MARK_STRENGTHS):
        samples = await marker.mark(track.samples, track.sample_rate, strength=strength)
        scratch = folder / f"try-{attempt}"
        scratch.mkdir(parents=True, exist_ok=True)
        encoded = await asyncio.to_thread(
            encode_in, scratch, Track(samples, track.sample_rate), params
        )
        confidence = await marker.file_confidence(encoded.path)
        result = MarkedFile(encoded, confidence, strength)
        if confidence >= MARK_TARGET:
            return result
        log.info(
            "the mark reads %.2f on the %s file at strength %.1f; marking again",
            confidence,
            encoded.format.name,
            strength,
        )
    assert result is not None
    log.warning("the mark still reads %.2f on the delivered cover", result.confidence)
    return result
