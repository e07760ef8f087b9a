"""What Parrot's batched T3 decoders share: request slots, the per-row KV cache, the
backbone call, stopping, and joining and leaving between steps.

A decoder keeps ``rows_per_request`` cache rows per request (two for guided decoding,
one for Turbo) and one *slot* of per-request state (logits, tokens seen, settings) on
the device. Active requests always fill slots ``0 .. n``: a leaving request's slot is
refilled with the last request's, so a step always covers exactly the active rows.
A subclass says how a prompt is laid out, how a new token is embedded, and how a token
is chosen from the logits.

Each step reads its tokens back to the host once, at its end, to report them.
"""

from __future__ import annotations

import dataclasses
import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor

from engine.tts.decode.cache import RowCache
from engine.tts.decode.graphs import StaticDecodeSteps, default_buckets, try_capture
from engine.tts.decode.params import (
    DecodeParams,
    DecoderBusyError,
    FinishedRequest,
    FinishReason,
    StepOutput,
)

_NO_TOKEN = -1


@dataclass(slots=True)
class _Active:
    request_id: int
    params: DecodeParams
    generator: torch.Generator | None
    """None for greedy requests: they draw nothing."""
    length: int
    """Positions written in each of the request's cache rows."""
    tokens: list[int] = field(default_factory=list)


class RowDecoder(ABC):
    """Decodes speech tokens for up to ``max_requests`` requests at once.

    ``max_length`` bounds a request's prompt plus its token budget; the cache holds
    ``rows_per_request * max_requests`` rows of that length, in the weights' dtype
    (logits and sampling stay float32). With ``cuda_graphs`` on a CUDA device, the
    decode forward is recorded as CUDA graphs for a few batch sizes (see
    :meth:`use_static_shapes`); elsewhere, or if recording fails, it runs eagerly.
    Off by default until it has been checked on a GPU.
    """

    rows_per_request: ClassVar[int]
    setting_count: ClassVar[int]
    """Columns of the per-slot settings tensor the subclass's sampling reads."""

    def __init__(
        self, t3: Any, *, max_requests: int, max_length: int, cuda_graphs: bool = False
    ) -> None:
        config = t3.tfmr.config
        if max_requests < 1 or max_length < 2:
            raise ValueError("max_requests must be >= 1 and max_length >= 2")
        if max_length > config.max_position_embeddings:
            raise ValueError(f"max_length is above the backbone's {config.max_position_embeddings}")
        self._t3 = t3
        self._hp = t3.hp
        weight: Tensor = t3.speech_emb.weight
        self.device = weight.device
        self._dtype = weight.dtype
        self.max_requests = max_requests
        self.max_length = max_length
        self._vocabulary = int(self._hp.speech_tokens_dict_size)
        heads = config.num_attention_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        slots, device = max_requests, self.device
        with torch.inference_mode():
            self._cache = RowCache(
                layers=config.num_hidden_layers,
                rows=self.rows_per_request * slots,
                heads=getattr(config, "num_key_value_heads", None) or heads,
                head_dim=head_dim,
                length=max_length,
                dtype=self._dtype,
                device=device,
            )
            self._logits = torch.zeros(
                slots, self.rows_per_request, self._vocabulary, device=device
            )
            self._seen = torch.zeros(slots, self._vocabulary, dtype=torch.bool, device=device)
            self._last = torch.full((slots,), _NO_TOKEN, dtype=torch.long, device=device)
            self._run = torch.zeros(slots, dtype=torch.long, device=device)
            self._produced = torch.zeros(slots, dtype=torch.long, device=device)
            self._repeat_limit = torch.zeros(slots, dtype=torch.long, device=device)
            self._settings = torch.zeros(slots, self.setting_count, device=device)
            self._lengths = torch.zeros(slots, dtype=torch.long, device=device)
            self._window = torch.arange(max_length, device=device)
        self._active: list[_Active] = []
        self._ids = itertools.count(1)
        self._static: StaticDecodeSteps | None = None
        if cuda_graphs and self.device.type == "cuda":
            self.use_static_shapes(capture=True)

    # what a subclass decides ------------------------------------------------------------
    @abstractmethod
    def _check(self, params: DecodeParams) -> None:
        """Raise ValueError for parameters this decoder cannot honour."""

    @abstractmethod
    def _prompt(self, conditioning: Any, text_tokens: Tensor, params: DecodeParams) -> Tensor:
        """The prompt embeddings, ``(rows_per_request, length, dim)``; the last position's
        output gives the first token's logits."""

    @abstractmethod
    def _settings_row(self, params: DecodeParams) -> list[float]: ...

    @abstractmethod
    def _choose(self, count: int, uniform: Tensor) -> tuple[Tensor, Tensor]:
        """The next token of each of the first ``count`` slots, and the logits to report
        for each (``(count, vocabulary)``); ``uniform`` holds each request's noise."""

    @abstractmethod
    def _embed(self, tokens: Tensor, produced: Tensor) -> Tensor:
        """``(n, 1, dim)``: the embeddings of speech tokens ``tokens`` (``(n, 1)``), each
        its request's ``produced``-th (``(n, 1)``)."""

    def _join_slot(self, slot: int, params: DecodeParams) -> None:
        """Set up a slot's state for a new request (subclasses may add to it)."""
        self._seen[slot] = False
        self._last[slot] = _NO_TOKEN
        self._run[slot] = 0
        self._produced[slot] = 0
        self._repeat_limit[slot] = params.repeat_limit
        self._settings[slot] = torch.tensor(self._settings_row(params), device=self.device)

    # public API ---------------------------------------------------------------------------
    @property
    def active_ids(self) -> list[int]:
        return [request.request_id for request in self._active]

    def tokens(self, request_id: int) -> list[int]:
        """The tokens an active request has produced so far."""
        return list(self._find(request_id).tokens)

    @property
    def uses_cuda_graphs(self) -> bool:
        return self._static is not None and self._static.captured

    @torch.inference_mode()
    def use_static_shapes(self, buckets: Iterable[int] = (), *, capture: bool) -> bool:
        """Run each decode forward at a fixed shape from now on: the smallest of
        ``buckets`` (default: powers of two and ``max_requests``) that holds the active
        requests, padded with free slots, over the cache's full width. With ``capture``
        (CUDA only) each bucket is recorded as a CUDA graph. Only while no request is
        active. Returns whether graphs were recorded (False: capture failed, eager)."""
        if self._active:
            raise RuntimeError("static shapes can be set up only while no request is active")
        if capture and self.device.type != "cuda":
            raise ValueError("CUDA graphs need a CUDA device")
        sizes = tuple(buckets) or default_buckets(self.max_requests)
        if max(sizes) > self.max_requests:
            raise ValueError("a bucket is larger than max_requests")
        self._pad_free_slots(0, self.max_requests)  # warm-up runs read these
        if capture:
            self._static = try_capture(self._static_forward, sizes)
        else:
            self._static = StaticDecodeSteps(self._static_forward, sizes, capture=False)
        self._lengths.zero_()
        return self._static is not None and self._static.captured

    @torch.inference_mode()
    def add_request(self, conditioning: Any, text_tokens: Tensor, params: DecodeParams) -> int:
        """Run a request's prompt into free rows; it samples from the next step.

        ``conditioning`` is a batch-of-one ``T3Cond``, on any device and dtype (a copy is
        moved to the model's; the caller's is never changed).
        """
        if len(self._active) == self.max_requests:
            raise DecoderBusyError(
                f"the speech decoder is full ({self.max_requests} requests); try again later"
            )
        self._check(params)
        prompt = self._prompt(self._conditioning(conditioning), text_tokens, params)
        rows, prompt_length = int(prompt.shape[0]), int(prompt.shape[1])
        positions_needed = prompt_length + params.max_new_tokens - 1
        if positions_needed > self.max_length:
            raise ValueError(
                f"prompt ({prompt_length}) plus budget ({params.max_new_tokens}) exceeds "
                f"the decoder's max_length ({self.max_length})"
            )
        slot = len(self._active)
        self._cache.target_prefill(rows * slot, rows, prompt_length)
        causal = torch.ones(prompt_length, prompt_length, dtype=torch.bool, device=self.device)
        positions = torch.arange(prompt_length, device=self.device)
        hidden = self._backbone(
            prompt, visible=causal.tril()[None, None], positions=positions.expand(rows, -1)
        )
        self._logits[slot] = self._t3.speech_head(hidden[:, -1]).float()
        self._join_slot(slot, params)
        self._lengths[slot] = prompt_length
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
        chosen, logits = self._choose(count, self._uniform_noise())
        slots = torch.arange(count, device=self.device)
        self._seen[slots, chosen] = True
        repeated = chosen == self._last[:count]
        self._run[:count] = torch.where(repeated, self._run[:count] + 1, 1)
        self._last[:count] = chosen
        self._produced[:count] += 1
        runaway = self._run[:count] >= self._repeat_limit[:count]
        report: list[list[int]] = torch.stack([chosen, runaway.long()]).tolist()
        output = StepOutput()
        if keep_logits:
            for index, request in enumerate(self._active):
                output.logits[request.request_id] = logits[index].clone()
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

    # the loop's parts ---------------------------------------------------------------------
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
        bucket = self._static.bucket_for(count) if self._static is not None else None
        if self._static is None or bucket is None:
            self._decode_forward(count, max(request.length for request in self._active) + 1)
        else:
            self._pad_free_slots(count, bucket)
            self._static.run(bucket)
        for request in self._active:
            request.length += 1

    def _decode_forward(self, slots: int, visible: int) -> None:
        """One position for each of the first ``slots`` slots, attending to the first
        ``visible`` cache positions: their newest tokens in, their next logits out."""
        rows = self.rows_per_request
        embedded = self._embed(self._last[:slots, None], self._produced[:slots, None])
        positions = self._lengths[:slots].repeat_interleave(rows)
        seen_positions = self._window[None, :visible] <= positions[:, None]
        self._cache.target_decode(positions, visible)
        hidden = self._backbone(
            embedded.repeat_interleave(rows, dim=0),
            visible=seen_positions[:, None, None, :],
            positions=positions[:, None],
        )
        self._logits[:slots] = self._t3.speech_head(hidden[:, 0]).float().view(slots, rows, -1)
        self._lengths[:slots] += 1

    def _static_forward(self, bucket: int) -> None:
        self._decode_forward(bucket, self.max_length)

    def _pad_free_slots(self, first: int, end: int) -> None:
        """Give free slots a valid token at position 0, so padded rows compute harmlessly
        (they write only to their own free cache rows)."""
        for buffer in (self._last, self._produced, self._lengths):
            buffer[first:end] = 0

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

    def _conditioning(self, conditioning: Any) -> Any:
        """A copy of the ``T3Cond`` on the model's device, its floats in the weights' dtype
        (``T3Cond.to`` and T3's prompt code both change the object they are given)."""
        return dataclasses.replace(conditioning).to(device=self.device, dtype=self._dtype)

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
            self._produced,
            self._repeat_limit,
            self._settings,
            self._lengths,
        ):
            buffer[target] = buffer[source]
        rows = self.rows_per_request
        self._cache.copy_rows(rows * source, rows * target, rows, self._active[source].length)

    def _find(self, request_id: int) -> _Active:
        for request in self._active:
            if request.request_id == request_id:
                return request
        raise KeyError(f"no active request {request_id}")
