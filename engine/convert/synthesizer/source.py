"""The NSF excitation: a sine at the target pitch (noise where unvoiced), one learned mix."""

from __future__ import annotations

import math

import torch
from torch import nn

SINE_AMPLITUDE = 0.1
VOICED_NOISE = 0.003
UNVOICED_NOISE = SINE_AMPLITUDE / 3


def _frame_start_phases(f0: torch.Tensor, upsample: int, sample_rate: int) -> torch.Tensor:
    """Phase (in cycles, 0..1) reached before each frame's first sample.

    Accumulated in float64 on the CPU (one value per 10 ms, and some devices have no
    float64) so that minutes of audio do not drift; only the fraction goes back.
    """
    cycles_per_frame = f0.detach().to("cpu", torch.float64) * (upsample / sample_rate)
    total = torch.cumsum(cycles_per_frame, dim=1)
    starts = torch.nn.functional.pad(total[:, :-1], (1, 0)).remainder(1.0)
    return starts.to(f0.device, torch.float32)


def sine_excitation(
    f0: torch.Tensor, upsample: int, sample_rate: int, generator: torch.Generator | None
) -> torch.Tensor:
    """(batch, frames) pitch in Hz (0 = unvoiced) -> (batch, frames * upsample) excitation.

    Each frame holds its pitch for ``upsample`` samples; the phase runs on continuously
    across frames and already includes the current sample's step (as in RVC). Voiced
    samples get the sine plus faint noise, unvoiced ones noise only.
    """
    f0 = f0.float()
    cycles_per_sample = f0 / sample_rate
    starts = _frame_start_phases(f0, upsample, sample_rate)
    ramp = torch.arange(1, upsample + 1, device=f0.device, dtype=torch.float32)
    phase = starts.unsqueeze(-1) + cycles_per_sample.unsqueeze(-1) * ramp
    voiced = (f0 > 0).unsqueeze(-1).expand_as(phase)
    sine = torch.where(voiced, SINE_AMPLITUDE * torch.sin(2 * math.pi * phase), 0.0)
    noise_scale = torch.where(voiced, VOICED_NOISE, UNVOICED_NOISE)
    noise = torch.randn(phase.shape, generator=generator, device=f0.device)
    return (sine + noise_scale * noise).flatten(1)


class HarmonicSource(nn.Module):
    """Holds ``l_linear``: the trained 1->1 mix of the (single-harmonic) excitation."""

    def __init__(self, sample_rate: int) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self.l_linear = nn.Linear(1, 1)

    def forward(
        self, f0: torch.Tensor, upsample: int, generator: torch.Generator | None
    ) -> torch.Tensor:
        """(batch, frames) Hz -> (batch, 1, samples)."""
        excitation = sine_excitation(f0, upsample, self.sample_rate, generator)
        excitation = excitation.to(self.l_linear.weight.dtype)
        return torch.tanh(self.l_linear(excitation.unsqueeze(-1))).transpose(1, 2)
