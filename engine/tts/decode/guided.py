"""Parrot's batched speech-token loop for Chatterbox's Llama-backbone T3 (original and
multilingual), with classifier-free guidance as a pair of rows per request.

It uses the T3 module's own parts (conditioning encoder, embeddings, backbone, speech
head) and none of its generation code: one backbone forward per step for every row of
every active request, a preallocated cache in which each row keeps its own length (no
padding), SDPA attention without attention maps, sampling on the device with each
request's own parameters and seed, and stopping per request (see :mod:`.base`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from engine.tts.decode.base import RowDecoder
from engine.tts.decode.params import DecodeParams
from engine.tts.decode.sampling import choose, guide, penalise_repeats

# Columns of the per-slot settings tensor.
_CFG, _TEMPERATURE, _PENALTY, _MIN_P, _TOP_P = range(5)


class GuidedT3Decoder(RowDecoder):
    """Decodes speech tokens for up to ``max_requests`` requests at once, each as a
    conditional and an unconditional row (the unconditional row's text is blanked).

    ``add_request``'s ``text_tokens`` are the sentence's 1-D text tokens framed by T3's
    start and stop text tokens (``hp.start_text_token`` … ``hp.stop_text_token``), as
    Chatterbox's ``T3.inference`` takes them. The prompt is the conditioning, the text,
    and the start-of-speech token twice (Chatterbox's own layout). ``params.top_k`` must
    be 0: Chatterbox's guided loop has no top-k filter.
    """

    rows_per_request = 2  # conditional, unconditional
    setting_count = 5

    def __init__(
        self, t3: Any, *, max_requests: int, max_length: int, cuda_graphs: bool = False
    ) -> None:
        if getattr(t3, "is_gpt", False):
            raise ValueError("the guided decoder needs a Llama-backbone T3 (not turbo)")
        super().__init__(
            t3, max_requests=max_requests, max_length=max_length, cuda_graphs=cuda_graphs
        )

    def _check(self, params: DecodeParams) -> None:
        if params.top_k != 0:
            raise ValueError("guided decoding has no top_k filter: leave top_k at 0")
        if params.max_new_tokens > self._hp.max_speech_tokens:
            raise ValueError(f"max_new_tokens is above {self._hp.max_speech_tokens}")

    def _prompt(self, conditioning: Any, text_tokens: Tensor, params: DecodeParams) -> Tensor:
        text = text_tokens.to(self.device, torch.long).reshape(1, -1).expand(2, -1)
        start = torch.full((2, 1), self._hp.start_speech_token, device=self.device)
        embeds, _ = self._t3.prepare_input_embeds(
            t3_cond=conditioning,
            text_tokens=text,
            speech_tokens=start,
            cfg_weight=params.cfg_weight,
        )
        again = self._t3.speech_emb(start) + self._t3.speech_pos_emb.get_fixed_embedding(0)
        prompt: Tensor = torch.cat([embeds, again], dim=1)
        return prompt

    def _settings_row(self, params: DecodeParams) -> list[float]:
        return [
            params.cfg_weight,
            params.temperature,
            params.repetition_penalty,
            params.min_p,
            params.top_p,
        ]

    def _join_slot(self, slot: int, params: DecodeParams) -> None:
        super()._join_slot(slot, params)
        self._seen[slot, self._hp.start_speech_token] = True  # Chatterbox penalises it too

    def _choose(self, count: int, uniform: Tensor) -> tuple[Tensor, Tensor]:
        settings = self._settings[:count]
        logits = self._logits[:count]
        guided = guide(logits[:, 0], logits[:, 1], settings[:, _CFG : _CFG + 1])
        penalised = penalise_repeats(
            guided, self._seen[:count], settings[:, _PENALTY : _PENALTY + 1]
        )
        chosen = choose(
            penalised,
            temperature=settings[:, _TEMPERATURE : _TEMPERATURE + 1],
            min_p=settings[:, _MIN_P : _MIN_P + 1],
            top_p=settings[:, _TOP_P : _TOP_P + 1],
            uniform=uniform,
        )
        return chosen, guided

    def _embed(self, tokens: Tensor, produced: Tensor) -> Tensor:
        # Chatterbox numbers speech positions from its start token (0), so token i is at i+1.
        embedded: Tensor = self._t3.speech_emb(tokens)
        position: Tensor = self._t3.speech_pos_emb.get_fixed_embedding(produced)
        return embedded + position
