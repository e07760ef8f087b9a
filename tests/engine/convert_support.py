"""Shared helpers for the voice-conversion tests (import the fixtures you use)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """These machines are shared: one intra-op thread is faster under load, and fairer."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def tone(hz: float, seconds: float, rate: int = 16_000, amplitude: float = 0.4) -> np.ndarray:
    times = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * times)).astype(np.float32)


def voiced_median(f0: np.ndarray) -> float:
    voiced = f0[f0 > 0]
    assert voiced.size > len(f0) // 2, f"only {voiced.size} of {len(f0)} frames voiced"
    return float(np.median(voiced))
