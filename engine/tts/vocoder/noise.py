"""Random draws addressed by position, so that how an utterance is cut into pieces never
changes the noise a frame or a sample gets, and the same seed gives the same audio."""

from __future__ import annotations

import math

import torch
from torch import Tensor

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15

MEL_DOMAIN = 1
"""The flow-matching start noise of the utterance's own mel frames."""
REFERENCE_DOMAIN = 2
"""The flow-matching start noise under the reference prompt's frames."""
SOURCE_DOMAIN = 3
"""The vocoder's source noise, per sample and harmonic."""
PHASE_DOMAIN = 4
"""The vocoder's random starting phase of each harmonic overtone."""


def mix_seed(*values: int) -> int:
    """A 63-bit generator seed from integers (splitmix64 rounds): neighbouring inputs give
    unrelated seeds, so block ``k`` and block ``k + 1`` draw independent noise."""
    state = _GOLDEN
    for value in values:
        state = ((state ^ (value & _MASK64)) + _GOLDEN) & _MASK64
        state = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        state = ((state ^ (state >> 27)) * 0x94D049BB133111EB) & _MASK64
        state ^= state >> 31
    return state >> 1


class PositionalNoise:
    """Standard normal noise of ``rows`` channels along a position axis.

    Positions come in blocks of ``block``; each block is drawn from its own generator,
    seeded by (seed, domain, block index), on the CPU (the same numbers on every device).
    A few recent blocks are kept, since consecutive pieces ask for neighbouring ranges.
    """

    def __init__(self, seed: int, domain: int, rows: int, block: int) -> None:
        self.seed = seed
        self.domain = domain
        self.rows = rows
        self.block = block
        self._recent: dict[int, Tensor] = {}

    def normal(self, start: int, stop: int) -> Tensor:
        """The noise at positions ``[start, stop)``: a float32 CPU tensor (rows, stop - start)."""
        if start < 0 or stop < start:
            raise ValueError(f"bad noise range [{start}, {stop})")
        if stop == start:
            return torch.zeros(self.rows, 0)
        first, last = start // self.block, math.ceil(stop / self.block)
        joined = torch.cat([self._block(index) for index in range(first, last)], dim=1)
        offset = start - first * self.block
        return joined[:, offset : offset + stop - start]

    def _block(self, index: int) -> Tensor:
        if index not in self._recent:
            generator = torch.Generator().manual_seed(mix_seed(self.seed, self.domain, index))
            if len(self._recent) >= 4:
                self._recent.pop(next(iter(self._recent)))
            self._recent[index] = torch.randn(self.rows, self.block, generator=generator)
        return self._recent[index]


def harmonic_phases(seed: int, harmonics: int) -> Tensor:
    """Starting phases (radians) of the source's harmonics: 0 for the fundamental, uniform
    in [-pi, pi) for the overtones, as Chatterbox's sine generator draws them."""
    generator = torch.Generator().manual_seed(mix_seed(seed, PHASE_DOMAIN))
    phases = (torch.rand(harmonics, generator=generator, dtype=torch.float64) * 2 - 1) * math.pi
    phases[0] = 0.0
    return phases
