"""Parrot's batched speech-token loop for Chatterbox Turbo's T3 (GPT-2 backbone, no
guidance): one cache row per request, Turbo's sampling chain (temperature, top_k,
top_p, then the repetition penalty), everything else shared with the guided loop
(see :mod:`.base`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from engine.tts.decode.base import RowDecoder
from engine.tts.decode.params import DecodeParams
from engine.tts.decode.sampling import choose_turbo

# Columns of the per-slot settings tensor.
_TEMPERATURE, _TOP_K, _TOP_P, _PENALTY = range(4)


class TurboT3Decoder(RowDecoder):
    """Decodes speech tokens for up to ``max_requests`` Turbo requests at once.

    ``add_request``'s ``text_tokens`` are the sentence's GPT-2 tokenizer ids exactly as
    Turbo's tokenizer returns them (no start or stop text tokens), 1-D or ``(1, n)``.
    The prompt is the conditioning (speaker embedding, then the voice's prompt speech
    tokens), the text, and one start-of-speech token; GPT-2 numbers the positions from 0,
    and each speech token takes the next position. ``cfg_weight`` and ``min_p`` are
    ignored, as Turbo's own loop ignores them. Like Turbo's loop, the start-of-speech
    token counts as already produced for the repetition penalty of the first token only.
    """

    rows_per_request = 1
    setting_count = 4

    def __init__(
        self, t3: Any, *, max_requests: int, max_length: int, cuda_graphs: bool = False
    ) -> None:
        if not getattr(t3, "is_gpt", False):
            raise ValueError("the Turbo decoder needs a GPT-2-backbone T3 (Chatterbox Turbo)")
        super().__init__(
            t3, max_requests=max_requests, max_length=max_length, cuda_graphs=cuda_graphs
        )
        with torch.inference_mode():
            start = torch.zeros(self._vocabulary, dtype=torch.bool, device=self.device)
            start[self._hp.start_speech_token] = True
            self._start_token = start

    def _check(self, params: DecodeParams) -> None:
        """Every parameter Turbo reads is valid by construction."""

    def _prompt(self, conditioning: Any, text_tokens: Tensor, params: DecodeParams) -> Tensor:
        text = text_tokens.to(self.device, torch.long).reshape(1, -1)
        start = torch.full((1, 1), self._hp.start_speech_token, device=self.device)
        prompt: Tensor
        prompt, _ = self._t3.prepare_input_embeds(
            t3_cond=conditioning, text_tokens=text, speech_tokens=start, cfg_weight=0.0
        )
        return prompt

    def _settings_row(self, params: DecodeParams) -> list[float]:
        return [params.temperature, params.top_k, params.top_p, params.repetition_penalty]

    def _choose(self, count: int, uniform: Tensor) -> tuple[Tensor, Tensor]:
        settings = self._settings[:count]
        logits = self._logits[:count, 0]
        first = self._produced[:count, None] == 0
        seen = self._seen[:count] | (first & self._start_token)
        chosen = choose_turbo(
            logits,
            seen=seen,
            temperature=settings[:, _TEMPERATURE : _TEMPERATURE + 1],
            top_k=settings[:, _TOP_K : _TOP_K + 1],
            top_p=settings[:, _TOP_P : _TOP_P + 1],
            penalty=settings[:, _PENALTY : _PENALTY + 1],
            uniform=uniform,
        )
        return chosen, logits

    def _embed(self, tokens: Tensor, produced: Tensor) -> Tensor:
        # Turbo's speech tokens have no position embedding of their own: GPT-2 adds its own.
        embedded: Tensor = self._t3.speech_emb(tokens)
        return embedded
