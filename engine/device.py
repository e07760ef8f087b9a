"""Choosing the torch device. torch is imported lazily: it costs seconds."""

from __future__ import annotations

import re

from engine.errors import ParrotError

_DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


class DeviceUnavailableError(ParrotError, RuntimeError):
    """The configured device does not exist on this machine."""


def is_valid_device_name(name: str) -> bool:
    """Whether ``name`` is a device spelling Parrot accepts (auto, cpu, cuda, cuda:N, mps)."""
    return bool(_DEVICE_PATTERN.match(name))


def resolve_device(requested: str) -> str:
    """Turn a configured device name into a concrete torch device string.

    ``auto`` picks the first CUDA GPU when there is one, else the CPU. Asking for
    CUDA on a machine without it is an error rather than a silent fall-back: an
    owner who configured a GPU wants to know it is not being used.
    """
    import torch

    if requested == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(
                f"device {requested!r} was requested but torch sees no CUDA GPU "
                f"(torch {torch.__version__}); set PARROT_DEVICE=cpu or auto"
            )
        index = int(requested.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise DeviceUnavailableError(
                f"device {requested!r} does not exist: torch sees "
                f"{torch.cuda.device_count()} GPU(s)"
            )
        return f"cuda:{index}"
    if requested == "mps" and not torch.backends.mps.is_available():
        raise DeviceUnavailableError("device 'mps' was requested but is not available")
    return requested
