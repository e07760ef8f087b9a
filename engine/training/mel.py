"""Spectrograms for training at 40 kHz: the linear one enc_q reads and the log-mel loss.

Frames line up with the content features: with ``(n_fft - hop) / 2`` reflection padding
on both sides and no centring, ``frames * HOP`` samples give exactly ``frames`` columns.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from engine.training.params import TRAINING_SAMPLE_RATE
from engine.training.training_set import HOP

N_FFT = 2048
WIN_LENGTH = 2048
MEL_BANDS = 125
SPEC_CHANNELS = N_FFT // 2 + 1
"""1025 linear-frequency bins."""
MAGNITUDE_FLOOR = 1e-6
"""Added to the squared magnitude before the root, so the gradient stays finite at 0."""
LOG_FLOOR = 1e-5


@functools.cache
def _window(device: str) -> torch.Tensor:
    return torch.hann_window(WIN_LENGTH, device=device)


@functools.cache
def _mel_basis(device: str) -> torch.Tensor:
    import librosa  # deferred: librosa takes a second to import

    basis = librosa.filters.mel(
        sr=TRAINING_SAMPLE_RATE, n_fft=N_FFT, n_mels=MEL_BANDS, fmin=0.0, fmax=None
    )
    return torch.from_numpy(basis).to(device)


def linear_spectrogram(audio: torch.Tensor) -> torch.Tensor:
    """(batch, samples) float waveform -> (batch, 1025, samples // HOP) magnitudes, float32."""
    pad = (N_FFT - HOP) // 2
    padded = F.pad(audio.float().unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    spec = torch.stft(
        padded,
        N_FFT,
        hop_length=HOP,
        win_length=WIN_LENGTH,
        window=_window(str(audio.device)),
        center=False,
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    return torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + MAGNITUDE_FLOOR)


def spectrogram_to_mel(spec: torch.Tensor) -> torch.Tensor:
    """Linear magnitudes -> natural-log mel (125 bands, Slaney scale as librosa)."""
    mel = torch.matmul(_mel_basis(str(spec.device)), spec.float())
    return torch.log(torch.clamp(mel, min=LOG_FLOOR))


def mel_spectrogram(audio: torch.Tensor) -> torch.Tensor:
    """(batch, samples) -> (batch, 125, samples // HOP) log mel, float32."""
    return spectrogram_to_mel(linear_spectrogram(audio))
