"""The right batched decoder for a loaded T3 (imports torch)."""

from __future__ import annotations

from typing import Any

from engine.tts.decode.base import RowDecoder
from engine.tts.decode.guided import GuidedT3Decoder
from engine.tts.decode.turbo import TurboT3Decoder


def decoder_for(
    t3: Any, *, max_requests: int, max_length: int, cuda_graphs: bool = False
) -> RowDecoder:
    """The decoder for this T3: Turbo's for a GPT-2 backbone (``t3.is_gpt``), the guided
    one for Llama (original and multilingual). ``cuda_graphs`` matters on CUDA only."""
    kind: type[RowDecoder] = TurboT3Decoder if getattr(t3, "is_gpt", False) else GuidedT3Decoder
    return kind(t3, max_requests=max_requests, max_length=max_length, cuda_graphs=cuda_graphs)
