"""The pluggable vocal-conversion step of a cover (zero-shot singing now, RVC later)."""

from __future__ import annotations

from typing import Protocol

from engine.audio import Audio
from engine.executor import CancelToken
from engine.separate.progress import Progress


class VocalConverter(Protocol):
    """Turns the song's vocals into the target voice; runs on the executor's worker thread.

    The cover pipeline calls :meth:`convert` once per piece of the vocals (cut at quiet
    points), each call its own executor job, so implementations need no piecing of
    their own for songs (they may still cut very long input).
    """

    method: str
    """Short label for people and the result, e.g. ``"zero-shot"`` or ``"rvc"``."""

    @property
    def cache_key(self) -> str:
        """Identifies voice, model weights and every setting that changes the output.

        The pipeline adds the input vocals and the key change itself.
        """
        ...

    @property
    def voice_pitch_hz(self) -> float | None:
        """Where the voice sits (median F0), to move the melody by whole octaves towards
        it; None when unknown (no octave change)."""
        ...

    def convert(
        self, vocals: Audio, semitones: float, token: CancelToken, progress: Progress
    ) -> Audio:
        """``vocals`` (mono, any rate) sung by the voice, ``semitones`` higher (may be
        negative); any output rate, the same duration. Check ``token`` between steps."""
        ...
