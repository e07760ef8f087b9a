"""Input conditioning: 16 kHz mono, peak at most 0.95, rumble below 48 Hz removed."""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

from engine.audio import Audio, resample
from engine.convert.errors import ConversionInputError
from engine.convert.pitch.contour import SAMPLE_RATE

PEAK_CEILING = 0.95
HIGH_PASS_HZ = 48.0
HIGH_PASS_ORDER = 5
MIN_SECONDS = 0.1
_HIGH_PASS = butter(HIGH_PASS_ORDER, HIGH_PASS_HZ, btype="highpass", fs=SAMPLE_RATE, output="sos")


def condition(audio: Audio) -> np.ndarray:
    """The samples the models read: float32 at 16 kHz.

    The high-pass runs forwards and backwards (zero phase) so that timing is unchanged.
    """
    if len(audio) == 0:
        raise ConversionInputError("the audio to convert is empty")
    if not np.all(np.isfinite(audio.samples)):
        raise ConversionInputError("the audio to convert contains NaN or infinite samples")
    if audio.duration < MIN_SECONDS:
        raise ConversionInputError(
            f"the audio to convert lasts {audio.duration:.2f} s; it needs at least {MIN_SECONDS} s"
        )
    samples = resample(audio, SAMPLE_RATE).samples.astype(np.float64)
    peak = float(np.max(np.abs(samples)))
    if peak > PEAK_CEILING:
        samples *= PEAK_CEILING / peak
    filtered: np.ndarray = sosfiltfilt(_HIGH_PASS, samples)
    return filtered.astype(np.float32)
