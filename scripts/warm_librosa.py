"""Compile librosa's numba functions once into their on-disk cache (about 30 s on one core).

librosa JIT-compiles a dozen helpers (peak picking, overlap-add, YIN's interpolation…) the
first time a fresh environment uses them. ``scripts/test.sh`` runs this beside the test
suite, on the core the suite leaves idle; measured from a fresh clone it saved nothing
noticeable there (the first tests need the same helpers at once), but a bot started after
it no longer pays for them on its first cover or enrolment.
"""

from __future__ import annotations

import numpy as np


def main() -> None:
    import librosa

    rate = 22_050
    samples = np.random.default_rng(0).standard_normal(rate).astype(np.float32)
    magnitude = np.abs(samples)
    librosa.util.localmax(magnitude)
    librosa.util.localmin(magnitude)
    librosa.util.peak_pick(
        magnitude, pre_max=3, post_max=3, pre_avg=3, post_avg=3, delta=0.1, wait=10
    )
    librosa.util.phasor(np.linspace(0.0, 1.0, 16))
    librosa.istft(librosa.stft(samples))
    librosa.zero_crossings(samples)
    librosa.yin(samples, fmin=80, fmax=400, sr=rate)
    librosa.filters.window_sumsquare(window="hann", n_frames=10)


if __name__ == "__main__":
    main()
