"""Praat's autocorrelation pitch ("pm") through parselmouth: no weights, CPU only.

parselmouth is GPL-3.0 licensed; it is imported only when this method is chosen.
"""

from __future__ import annotations

import numpy as np

from engine.convert.errors import PitchExtractorUnavailableError
from engine.convert.params import PitchMethod
from engine.convert.pitch import contour

VOICING_THRESHOLD = 0.6
"""RVC's setting: stricter than Praat's default 0.45, so breathy frames count as unvoiced."""


class PraatExtractor:
    method = PitchMethod.PM

    def __init__(self) -> None:
        try:
            import parselmouth
        except ImportError:
            raise PitchExtractorUnavailableError(
                "the 'pm' pitch method needs praat-parselmouth (GPL-3.0), which is not "
                "installed: `pip install praat-parselmouth`, or choose rmvpe or fcpe"
            ) from None
        self._parselmouth = parselmouth

    @classmethod
    def load(cls) -> PraatExtractor:
        return cls()

    def extract(self, audio_16k: np.ndarray, frames: int) -> np.ndarray:
        sound = self._parselmouth.Sound(
            np.asarray(audio_16k, dtype=np.float64), sampling_frequency=contour.SAMPLE_RATE
        )
        pitch = sound.to_pitch_ac(
            time_step=contour.FRAME_HOP / contour.SAMPLE_RATE,
            voicing_threshold=VOICING_THRESHOLD,
            pitch_floor=contour.F0_MIN,
            pitch_ceiling=contour.F0_MAX,
        )
        hz = pitch.selected_array["frequency"]
        return contour.fit_length(contour.clean(hz), frames)
