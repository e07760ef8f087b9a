"""S3Gen's mel-to-waveform vocoder (HiFT) on windows of a stream's mel, several at once.

HiFT is a neural source-filter vocoder: a sine source at the predicted pitch (with
harmonics and noise) drives convolutions over the mel. Chatterbox's ``inference`` draws
the source's noise and phases from the global RNG and restarts the phase at every call.
Here the source is Parrot's own, from the model's pitch predictor and the source module's
constants and weights: its noise comes per sample position from the stream's seed, and
its phase carries across windows, so a window's audio equals the matching stretch of a
single call over the whole mel (away from the window's edges). Everything else is the
model's own ``decode``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor


@dataclass(frozen=True, slots=True)
class VocoderRow:
    """A window of one stream's mel, and which of its frames to turn into audio now."""

    mel: Tensor
    """(80, T) final mel frames: left context, the frames to voice, then right context."""
    anchor: int
    """Window frame where the audio to emit starts."""
    emit: int
    """Frames of audio to emit from the anchor."""
    margin: int
    """Zero frames to add after the window (the utterance's end: same edge alone or padded)."""
    phase: Tensor
    """(harmonics,) float64: each harmonic's phase, in cycles, accumulated before the
    anchor's first sample."""
    offsets: Tensor
    """(harmonics,) float64: each harmonic's starting phase in radians."""
    noise: Tensor
    """(harmonics, hop * (T + margin)) the source noise of the window's samples."""


@dataclass(frozen=True, slots=True)
class VocoderOutput:
    audio: Tensor
    """(hop * emit,) float32 samples."""
    phase: Tensor
    """(harmonics,) the phase accumulated before the first sample after ``audio``."""


def samples_per_frame(s3gen: Any) -> int:
    """Audio samples per mel frame (480 at 24 kHz: 20 ms)."""
    return int(s3gen.mel2wav.f0_upsamp.scale_factor)


def harmonic_count(s3gen: Any) -> int:
    """The source's harmonics, the fundamental included (9 in S3Gen)."""
    return int(s3gen.mel2wav.m_source.l_sin_gen.harmonic_num) + 1


def vocode(s3gen: Any, rows: Sequence[VocoderRow]) -> list[VocoderOutput]:
    """Each row's emitted audio from one batched call of HiFT's pitch predictor and
    decoder over right-padded windows (padding is zero mel and zero source)."""
    hift = s3gen.mel2wav
    device, dtype = s3gen.device, s3gen.dtype
    hop = samples_per_frame(s3gen)
    lengths = [row.mel.size(1) + row.margin for row in rows]
    batch, frames = len(rows), max(lengths)
    mel = torch.zeros(batch, 80, frames, device=device, dtype=dtype)
    noise = torch.zeros(batch, rows[0].noise.size(0), frames * hop, device=device)
    for index, row in enumerate(rows):
        mel[index, :, : row.mel.size(1)] = row.mel.to(device, dtype)
        noise[index, :, : lengths[index] * hop] = row.noise.to(device)
    frame_valid = (
        torch.arange(frames, device=device)[None, :]
        < torch.tensor([row.mel.size(1) for row in rows], device=device)[:, None]
    )
    pitch = hift.f0_predictor(mel) * frame_valid
    pitch = pitch.repeat_interleave(hop, dim=1)
    anchors = torch.tensor([row.anchor * hop for row in rows], device=device)
    ends = torch.tensor([(row.anchor + row.emit) * hop for row in rows], device=device)
    phase = torch.stack([row.phase for row in rows]).to(device)
    offsets = torch.stack([row.offsets for row in rows]).to(device)
    source, phase_after = harmonic_source(
        hift.m_source, pitch, noise, phase, offsets, anchors, ends
    )
    valid = frame_valid.repeat_interleave(hop, dim=1).unsqueeze(1)
    audio = hift.decode(x=mel, s=(source * valid).to(dtype))
    return [
        VocoderOutput(
            audio=audio[index, row.anchor * hop : (row.anchor + row.emit) * hop].float(),
            phase=phase_after[index].cpu(),
        )
        for index, row in enumerate(rows)
    ]


def harmonic_source(
    source_module: Any,
    pitch: Tensor,
    noise: Tensor,
    phase: Tensor,
    offsets: Tensor,
    anchors: Tensor,
    ends: Tensor,
) -> tuple[Tensor, Tensor]:
    """HiFT's excitation for pitch ``(B, N)`` in Hz per sample, with Chatterbox's
    ``SourceModuleHnNSF`` constants and merge layer: voiced samples (pitch above the
    threshold) get sines at the harmonics plus a little noise, unvoiced ones noise only.

    Phases are anchored, not restarted: at sample ``anchors[b]`` harmonic ``h`` has turned
    ``phase[b, h]`` cycles (accumulated over the earlier windows); samples before the
    anchor count back from it. Returns the source ``(B, 1, N)`` and the cycles accumulated
    before sample ``ends[b]``, for the next window (float64 throughout, so the phase stays
    exact over long utterances).
    """
    generator = source_module.l_sin_gen
    harmonics = torch.arange(1, phase.size(1) + 1, device=pitch.device, dtype=torch.float64)
    cycles = pitch.double()[:, None, :] * harmonics[None, :, None] / float(generator.sampling_rate)
    total = cycles.cumsum(dim=-1)

    def before(sample: Tensor) -> Tensor:
        """Cycles over samples ``[0, sample)`` of each row's window, (B, harmonics, 1)."""
        index = (sample - 1).clamp(min=0)[:, None, None].expand(-1, total.size(1), 1)
        return total.gather(-1, index) * (sample > 0)[:, None, None]

    turned = phase[:, :, None] + total - before(anchors)
    angle = 2 * math.pi * torch.remainder(turned, 1.0) + offsets[:, :, None]
    sines = generator.sine_amp * torch.sin(angle).float()
    voiced = (pitch > generator.voiced_threshold).float()[:, None, :]
    noise_amplitude = voiced * generator.noise_std + (1 - voiced) * generator.sine_amp / 3
    excitation = sines * voiced + noise_amplitude * noise
    weights = source_module.l_linear
    merged = source_module.l_tanh(weights(excitation.transpose(1, 2).to(weights.weight.dtype)))
    phase_after = torch.remainder(phase + (before(ends) - before(anchors)).squeeze(-1), 1.0)
    return merged.transpose(1, 2), phase_after
