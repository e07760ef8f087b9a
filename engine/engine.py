"""The engine facade that the bot, the CLI and the benchmarks share."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from engine.config import EngineConfig
from engine.device import resolve_device


@dataclass(frozen=True, slots=True)
class EngineStatus:
    device: str
    loaded_models: list[str] = field(default_factory=list)
    queued_jobs: int = 0

    @property
    def state(self) -> str:
        if self.queued_jobs:
            return f"busy ({self.queued_jobs} queued)"
        return "ready" if self.loaded_models else "idle (models load on first use)"


class Engine:
    """Voice work behind a small async API. Lazy: nothing heavy happens until first use."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._device: str | None = None
        self._device_lock = asyncio.Lock()

    async def device(self) -> str:
        """The concrete torch device; resolving it imports torch, so it runs off the loop."""
        async with self._device_lock:
            if self._device is None:
                self._device = await asyncio.to_thread(resolve_device, self.config.device)
            return self._device

    async def status(self) -> EngineStatus:
        return EngineStatus(device=await self.device())

    async def shutdown(self) -> None:
        """Release models and worker threads. Safe to call more than once."""
