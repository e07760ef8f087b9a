"""Parrot's batched speech-token loop for Chatterbox's Llama-backbone T3 (original and
multilingual), with classifier-free guidance as a pair of rows per request.

It uses the T3 module's own parts (conditioning encoder, embeddings, backbone, speech
head) and none of its generation code: one backbone forward per step for every row of
every active request, a preallocated :class:`RowCache` in which each row keeps its own
length (no padding), SDPA attention without attention maps, sampling on the device with
each request's own parameters and seed, and stopping per request. Requests join
(:meth:`GuidedT3Decoder.add_request` runs their prompt) and leave (finished, or through
:meth:`GuidedT3Decoder.cancel`) between steps; a leaving request's rows are refilled
with the last request's, so a step always covers exactly the active rows.

Each step reads its tokens back to the host once, at its end, to report them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from engine.tts.decode.cache import RowCache
from engine.tts.decode.params import (
    DecodeParams,
    DecoderBusyError,
    FinishedRequest,
    FinishReason,
    StepOutput,
)
from engine.tts.decode.sampling import choose, guide, penalise_repeats

_ROWS_PER_REQUEST = 2  # conditional, unconditional
_NO_TOKEN = -1
# Columns of the per-request settings tensor.
_CFG, _TEMPERATURE, _PENALTY, _MIN_P, _TOP_P, _REPEAT_LIMIT = range(6)


@dataclass(slots=True)
class _Active:
    request_id: int
    params: DecodeParams
    generator: torch.Generator | None
    """None for greedy requests: they draw nothing."""
    length: int
    """Positions written in each of the request's two cache rows."""
    tokens: list[int] = field(default_factory=list)


class GuidedT3Decoder:
    """Decodes speech tokens for up to ``max_requests`` requests at once.

    ``max_length`` bounds a request's prompt (conditioning, text, start token) plus its
    token budget; the cache holds ``2 * max_requests`` rows of that length.
    """

    def __init__(self, t3: Any, *, max_requests: int, max_length: int) -> None:
        if getattr(t3, "is_gpt", False):
            raise ValueError("the guided decoder needs a Llama-backbone T3 (not turbo)")
        if max_requests < 1 or max_length < 2:
            raise ValueError("max_requests must be >= 1 and max_length >= 2")
        self._t3 = t3
        self._hp = t3.hp
        weight: Tensor = t3.speech_emb.weight
        self.device = weight.device
        self._dtype = weight.dtype
        self.max_requests = max_requests
        self.max_length = max_length
        self._vocabulary = int(self._hp.speech_tokens_dict_size)
        config = t3.tfmr.config
        heads = config.num_key_value_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        slots, device = max_requests, self.device
        with torch.inference_mode():
            self._cache = RowCache(
                layers=config.num_hidden_layers,
                rows=_ROWS_PER_REQUEST * slots,
                heads=heads,
                head_dim=head_dim,
                length=max_length,
                dtype=self._dtype,
                device=device,
            )
            self._logits = torch.zeros(slots, _ROWS_PER_REQUEST, self._vocabulary, device=device)
            self._seen = torch.zeros(slots, self._vocabulary, dtype=torch.bool, device=device)
            self._last = torch.full((slots,), _NO_TOKEN, dtype=torch.long, device=device)
            self._run = torch.zeros(slots, dtype=torch.long, device=device)
            self._settings = torch.zeros(slots, 6, device=device)
            self._lengths = torch.zeros(slots, dtype=torch.long, device=device)
        self._active: list[_Active] = []
        self._ids = itertools.count(1)

    @property
    def active_ids(self) -> list[int]:
        return [request.request_id for request in self._active]

    def tokens(self, request_id: int) -> list[int]:
        """The tokens an active request has produced so far."""
        return list(self._find(request_id).tokens)

    @torch.inference_mode()
    def add_request(self, conditioning: Any, text_tokens: Tensor, params: DecodeParams) -> int:
        """Run a request's prompt into a free pair of rows; it samples from the next step.

        ``conditioning`` is a batch-of-one ``T3Cond`` on the model's device;
        ``text_tokens`` the 1-D text tokens with their start and stop tokens.
        """
        if len(self._active) == self.max_requests:
            raise DecoderBusyError(
                f"the speech decoder is full ({self.max_requests} requests); try again later"
            )
        prompt = self._prompt(conditioning, text_tokens, params.cfg_weight)
        prompt_length = int(prompt.shape[1])
        positions_needed = prompt_length + params.max_new_tokens - 1
        if positions_needed > self.max_length:
            raise ValueError(
                f"prompt ({prompt_length}) plus budget ({params.max_new_tokens}) exceeds "
                f"the decoder's max_length ({self.max_length})"
            )
        if params.max_new_tokens > self._hp.max_speech_tokens:
            raise ValueError(f"max_new_tokens is above {self._hp.max_speech_tokens}")
        slot = len(self._active)
        self._cache.target_prefill(_ROWS_PER_REQUEST * slot, _ROWS_PER_REQUEST, prompt_length)
        causal = torch.ones(prompt_length, prompt_length, dtype=torch.bool, device=self.device)
        positions = torch.arange(prompt_length, device=self.device)
        hidden = self._backbone(
            prompt, visible=causal.tril()[None, None], positions=positions.expand(2, -1)
        )
        self._logits[slot] = self._t3.speech_head(hidden[:, -1]).float()
        self._reset_slot(slot, params, prompt_length)
        generator = None
        if not params.greedy:
            generator = torch.Generator(device=self.device).manual_seed(params.seed)
        request_id = next(self._ids)
        self._active.append(_Active(request_id, params, generator, prompt_length))
        return request_id

    @torch.inference_mode()
    def cancel(self, request_id: int) -> FinishedRequest:
        """Take a request out of the batch now (between steps)."""
        request = self._find(request_id)
        self._remove([self._active.index(request)])
        return FinishedRequest(request_id, request.tokens, FinishReason.CANCELLED)

    @torch.inference_mode()
    def step(self, *, keep_logits: bool = False) -> StepOutput:
        """Choose one token for every active request, retire the finished ones, and run
        the backbone once for all the others."""
        count = len(self._active)
        if count == 0:
            return StepOutput()
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
            uniform=self._uniform_noise(),
        )
        slots = torch.arange(count, device=self.device)
        self._seen[slots, chosen] = True
        repeated = chosen == self._last[:count]
        self._run[:count] = torch.where(repeated, self._run[:count] + 1, 1)
        self._last[:count] = chosen
        runaway = self._run[:count] >= settings[:, _REPEAT_LIMIT]
        report: list[list[int]] = torch.stack([chosen, runaway.long()]).tolist()
        output = StepOutput()
        if keep_logits:
            for index, request in enumerate(self._active):
                output.guided_logits[request.request_id] = guided[index].clone()
        leaving = []
        for index, (request, token, ran_away) in enumerate(
            zip(self._active, report[0], report[1], strict=True)
        ):
            reason = self._record(request, token, bool(ran_away), output)
            if reason is not None:
                leaving.append(index)
                output.finished.append(FinishedRequest(request.request_id, request.tokens, reason))
        self._remove(leaving)
        if self._active:
            self._advance()
        return output

    def _record(
        self, request: _Active, token: int, ran_away: bool, output: StepOutput
    ) -> FinishReason | None:
        """Keep a request's new token; say why it ends, if it does."""
        if token == self._hp.stop_speech_token:
            return FinishReason.STOP_TOKEN
        request.tokens.append(token)
        output.tokens[request.request_id] = token
        if len(request.tokens) >= request.params.max_new_tokens:
            return FinishReason.BUDGET
        return FinishReason.REPETITION if ran_away else None

    def _advance(self) -> None:
        """Feed every active request's newest token through the backbone."""
        count = len(self._active)
        newest = torch.tensor([r.tokens[-1] for r in self._active], device=self.device)
        # Chatterbox numbers speech positions from its start token (0), so token i is at i+1.
        speech_index = torch.tensor([len(r.tokens) for r in self._active], device=self.device)
        embedded = self._t3.speech_emb(newest[:, None])
        embedded = embedded + self._t3.speech_pos_emb.get_fixed_embedding(speech_index[:, None])
        rows = embedded.repeat_interleave(_ROWS_PER_REQUEST, dim=0)
        positions = self._lengths[:count].repeat_interleave(_ROWS_PER_REQUEST)
        visible = max(request.length for request in self._active) + 1
        window = torch.arange(visible, device=self.device)
        seen_positions = window[None, :] <= positions[:, None]
        self._cache.target_decode(positions, visible)
        hidden = self._backbone(
            rows, visible=seen_positions[:, None, None, :], positions=positions[:, None]
        )
        self._logits[:count] = self._t3.speech_head(hidden[:, 0]).float().view(count, 2, -1)
        self._lengths[:count] += 1
        for request in self._active:
            request.length += 1

    def _backbone(self, embeds: Tensor, *, visible: Tensor, positions: Tensor) -> Tensor:
        """The backbone's last hidden states for ``embeds``; ``visible`` says which cached
        positions each query may attend to (an additive mask is built from it)."""
        blocked = torch.finfo(self._dtype).min
        mask = torch.zeros(visible.shape, dtype=self._dtype, device=self.device)
        mask = mask.masked_fill(~visible, blocked)
        output = self._t3.tfmr(
            inputs_embeds=embeds,
            attention_mask=mask,
            position_ids=positions,
            past_key_values=self._cache,
            cache_position=positions[0],  # unused by RowCache; spares a length query
            use_cache=True,
        )
        hidden: Tensor = output.last_hidden_state
        return hidden

    def _prompt(self, conditioning: Any, text_tokens: Tensor, cfg_weight: float) -> Tensor:
        """The guided pair's prompt embeddings: conditioning, text (blanked in the
        unconditional row), and the start-of-speech token twice, as Chatterbox lays it out."""
        text = text_tokens.to(self.device, torch.long).reshape(1, -1).expand(2, -1)
        start = torch.full((2, 1), self._hp.start_speech_token, device=self.device)
        embeds, _ = self._t3.prepare_input_embeds(
            t3_cond=conditioning, text_tokens=text, speech_tokens=start, cfg_weight=cfg_weight
        )
        again = self._t3.speech_emb(start) + self._t3.speech_pos_emb.get_fixed_embedding(0)
        prompt: Tensor = torch.cat([embeds, again], dim=1)
        return prompt

    def _reset_slot(self, slot: int, params: DecodeParams, prompt_length: int) -> None:
        self._seen[slot] = False
        self._seen[slot, self._hp.start_speech_token] = True  # Chatterbox penalises it too
        self._last[slot] = _NO_TOKEN
        self._run[slot] = 0
        self._lengths[slot] = prompt_length
        self._settings[slot] = torch.tensor(
            [
                params.cfg_weight,
                params.temperature,
                params.repetition_penalty,
                params.min_p,
                params.top_p,
                params.repeat_limit,
            ],
            device=self.device,
        )

    def _uniform_noise(self) -> Tensor:
        """One row of uniform noise per request, from its own generator (zeros if greedy)."""
        rows = [
            torch.rand(self._vocabulary, generator=request.generator, device=self.device)
            if request.generator is not None
            else torch.zeros(self._vocabulary, device=self.device)
            for request in self._active
        ]
        return torch.stack(rows)

    def _remove(self, indices: list[int]) -> None:
        """Drop these requests; the last requests move into the freed slots."""
        for index in sorted(indices, reverse=True):
            last = len(self._active) - 1
            if index != last:
                self._move_slot(last, index)
                self._active[index] = self._active[last]
            self._active.pop()

    def _move_slot(self, source: int, target: int) -> None:
        for buffer in (
            self._logits,
            self._seen,
            self._last,
            self._run,
            self._settings,
            self._lengths,
        ):
            buffer[target] = buffer[source]
        self._cache.copy_rows(
            _ROWS_PER_REQUEST * source,
            _ROWS_PER_REQUEST * target,
            _ROWS_PER_REQUEST,
            self._active[source].length,
        )

    def _find(self, request_id: int) -> _Active:
        for request in self._active:
            if request.request_id == request_id:
                return request
        raise KeyError(f"no active request {request_id}")
