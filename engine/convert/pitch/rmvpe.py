"""RMVPE pitch extraction: log-mel -> network salience -> Hz by a local weighted average.

The front end is the one RMVPE was trained on: 16 kHz, 1024-point STFT with a Hann
window, hop 160 (centred frames), magnitude through a 128-band HTK mel filterbank
(30..8000 Hz), natural log floored at 1e-5. The 360 output bins are 20 cents apart from
about 31.7 Hz; a frame is voiced when its strongest bin exceeds 0.03.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.convert.errors import ConversionWeightsMissingError
from engine.convert.params import PitchMethod
from engine.convert.pitch import contour
from engine.convert.pitch.rmvpe_net import FRAME_MULTIPLE, MEL_BANDS, PITCH_BINS, RmvpeNetwork

N_FFT = 1024
MEL_FMIN = 30.0
MEL_FMAX = 8000.0
LOG_FLOOR = 1e-5
VOICING_THRESHOLD = 0.03
CENTS_FIRST_BIN = 1997.3794084376191
CENTS_PER_BIN = 20.0
LOCAL_RADIUS = 4
"""Bins either side of the peak that the weighted average uses."""


class RmvpeWeightsError(ValueError):
    """An ``rmvpe.pt`` that does not hold RMVPE's state dict."""


def salience_to_hz(salience: np.ndarray, threshold: float = VOICING_THRESHOLD) -> np.ndarray:
    """(frames, 360) salience -> Hz (0 where the peak is not above ``threshold``)."""
    bins = salience.shape[1]
    cents_table = np.pad(CENTS_FIRST_BIN + CENTS_PER_BIN * np.arange(bins), LOCAL_RADIUS)
    padded = np.pad(salience, ((0, 0), (LOCAL_RADIUS, LOCAL_RADIUS)))
    peak = np.argmax(salience, axis=1)
    window = peak[:, None] + np.arange(2 * LOCAL_RADIUS + 1)[None, :]
    weights = np.take_along_axis(padded, window, axis=1).astype(np.float64)
    total = weights.sum(axis=1)
    cents = (weights * cents_table[window]).sum(axis=1) / np.maximum(total, 1e-12)
    voiced = salience.max(axis=1) > threshold
    return np.where(voiced, 10.0 * 2.0 ** (cents / 1200.0), 0.0).astype(np.float32)


def load_rmvpe_network(path: Path, device: str) -> RmvpeNetwork:
    """Load ``rmvpe.pt`` (a plain state dict) strictly; a wrong file gets a clear message."""
    if not Path(path).is_file():
        raise ConversionWeightsMissingError(f"RMVPE weights not found at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise RmvpeWeightsError(f"{path} is not a readable RMVPE checkpoint: {error}") from None
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict):
        raise RmvpeWeightsError(f"{path} does not hold a state dict")
    state = {key: value for key, value in state.items() if not key.endswith("num_batches_tracked")}
    with torch.device("meta"):
        network = RmvpeNetwork()
    expected = {k for k in network.state_dict() if not k.endswith("num_batches_tracked")}
    missing, unexpected = expected - state.keys(), state.keys() - expected
    if missing or unexpected:
        raise RmvpeWeightsError(
            f"{path} is not RMVPE's state dict: {len(missing)} missing and "
            f"{len(unexpected)} unexpected keys (e.g. {sorted(missing or unexpected)[0]})"
        )
    network.load_state_dict(
        {key: value.float() for key, value in state.items()}, strict=False, assign=True
    )
    for module in network.modules():  # counters are not in every export; they are unused
        if isinstance(module, torch.nn.BatchNorm2d):
            module.num_batches_tracked = torch.zeros((), dtype=torch.long)
    return network.to(device).eval().requires_grad_(False)


class RmvpeExtractor:
    method = PitchMethod.RMVPE

    def __init__(self, network: RmvpeNetwork, device: str) -> None:
        import librosa

        self.network = network
        self.device = device
        basis = librosa.filters.mel(
            sr=contour.SAMPLE_RATE,
            n_fft=N_FFT,
            n_mels=MEL_BANDS,
            fmin=MEL_FMIN,
            fmax=MEL_FMAX,
            htk=True,
        )
        self.mel_basis = torch.from_numpy(basis).float().to(device)
        self.window = torch.hann_window(N_FFT, device=device)

    @classmethod
    def load(cls, path: Path, device: str) -> RmvpeExtractor:
        return cls(load_rmvpe_network(path, device), device)

    def log_mel(self, audio: torch.Tensor) -> torch.Tensor:
        """(samples,) -> (128, samples // 160 + 1)."""
        spectrum = torch.stft(
            audio,
            N_FFT,
            hop_length=contour.FRAME_HOP,
            window=self.window,
            center=True,
            return_complex=True,
        )
        return torch.log(torch.clamp(self.mel_basis @ spectrum.abs(), min=LOG_FLOOR))

    @torch.inference_mode()
    def salience(self, audio_16k: np.ndarray) -> np.ndarray:
        audio = torch.from_numpy(np.ascontiguousarray(audio_16k, dtype=np.float32)).to(self.device)
        mel = self.log_mel(audio).unsqueeze(0)
        frames = mel.shape[-1]
        padded = -(-frames // FRAME_MULTIPLE) * FRAME_MULTIPLE
        hidden = self.network(F.pad(mel, (0, padded - frames)))
        result: np.ndarray = hidden[0, :frames].float().cpu().numpy()
        assert result.shape[1] == PITCH_BINS
        return result

    def extract(self, audio_16k: np.ndarray, frames: int) -> np.ndarray:
        hz = salience_to_hz(self.salience(audio_16k))
        return contour.fit_length(contour.clean(hz), frames)
