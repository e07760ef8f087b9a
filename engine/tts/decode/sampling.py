"""Choosing the next speech token for every request of a batch at once, on the device.

Each function takes one row per request and per-request parameters as ``(n, 1)``
columns, so requests with different settings share the same few kernels. Random draws
come in as uniform noise from each request's own generator: a request's choices then
depend on its seed alone, never on which other requests share the batch.
"""

from __future__ import annotations

import torch
from torch import Tensor

_NEGATIVE_INFINITY = float("-inf")


def guide(conditional: Tensor, unconditional: Tensor, weight: Tensor) -> Tensor:
    """Classifier-free guidance: push the conditional logits away from the unguided ones."""
    return conditional + weight * (conditional - unconditional)


def penalise_repeats(logits: Tensor, seen: Tensor, penalty: Tensor) -> Tensor:
    """Make tokens a request already produced less likely (divide positive logits by
    ``penalty``, multiply negative ones), as in the CTRL paper and Chatterbox's loop."""
    penalised = torch.where(logits < 0, logits * penalty, logits / penalty)
    return torch.where(seen, penalised, logits)


def _keep_min_p(logits: Tensor, min_p: Tensor) -> Tensor:
    probabilities = torch.softmax(logits, dim=-1)
    floor = min_p * probabilities.amax(dim=-1, keepdim=True)
    return logits.masked_fill(probabilities < floor, _NEGATIVE_INFINITY)


def _keep_top_p(logits: Tensor, top_p: Tensor) -> Tensor:
    """Keep the most likely tokens until their mass reaches ``top_p`` (at least one)."""
    probabilities = torch.softmax(logits, dim=-1)
    ranked, order = probabilities.sort(dim=-1, descending=True)
    mass_before = ranked.cumsum(dim=-1) - ranked
    keep_ranked = mass_before < top_p
    keep_ranked[:, 0] = True
    keep = torch.zeros_like(keep_ranked).scatter(-1, order, keep_ranked)
    return logits.masked_fill(~keep, _NEGATIVE_INFINITY)


def _keep_top_k(logits: Tensor, top_k: Tensor) -> Tensor:
    """Keep the ``top_k`` most likely tokens (ties with the last one too); 0 keeps all."""
    vocabulary = logits.shape[-1]
    count = torch.where(top_k > 0, top_k, vocabulary).clamp(max=vocabulary).long()
    ranked = logits.sort(dim=-1, descending=True).values
    floor = ranked.gather(-1, count - 1)
    return logits.masked_fill(logits < floor, _NEGATIVE_INFINITY)


def _unscaled_if_greedy(logits: Tensor, temperature: Tensor) -> Tensor:
    return logits / torch.where(temperature > 0, temperature, torch.ones_like(temperature))


def filtered_logits(logits: Tensor, temperature: Tensor, min_p: Tensor, top_p: Tensor) -> Tensor:
    """Temperature, then min_p, then top_p; rows with temperature 0 are left unscaled."""
    return _keep_top_p(_keep_min_p(_unscaled_if_greedy(logits, temperature), min_p), top_p)


def gumbel(uniform: Tensor) -> Tensor:
    """Gumbel noise: ``argmax(logits + gumbel(u))`` is a draw from ``softmax(logits)``."""
    tiny = torch.finfo(uniform.dtype).tiny
    return -torch.log(-torch.log(uniform.clamp(min=tiny, max=1.0 - 1e-7)))


def _draw(logits: Tensor, *, greedy_from: Tensor, temperature: Tensor, uniform: Tensor) -> Tensor:
    """A draw from ``softmax(logits)`` per row; the argmax of ``greedy_from`` where the
    temperature is 0."""
    drawn = (logits + gumbel(uniform)).argmax(dim=-1)
    return torch.where(temperature[:, 0] > 0, drawn, greedy_from.argmax(dim=-1))


def choose(
    logits: Tensor,
    *,
    temperature: Tensor,
    min_p: Tensor,
    top_p: Tensor,
    uniform: Tensor,
) -> Tensor:
    """Chatterbox's guided chain after the penalty: one token per row, greedy where the
    temperature is 0, elsewhere a draw from the filtered distribution. ``logits`` are
    guided and penalised already."""
    filtered = filtered_logits(logits, temperature, min_p, top_p)
    return _draw(filtered, greedy_from=logits, temperature=temperature, uniform=uniform)


def turbo_logits(
    logits: Tensor,
    *,
    seen: Tensor,
    temperature: Tensor,
    top_k: Tensor,
    top_p: Tensor,
    penalty: Tensor,
) -> Tensor:
    """Chatterbox Turbo's chain: temperature (skipped where it is 0), top_k, top_p, then
    the repetition penalty on what the filters kept; a draw is from their softmax."""
    filtered = _keep_top_p(_keep_top_k(_unscaled_if_greedy(logits, temperature), top_k), top_p)
    return penalise_repeats(filtered, seen, penalty)


def choose_turbo(
    logits: Tensor,
    *,
    seen: Tensor,
    temperature: Tensor,
    top_k: Tensor,
    top_p: Tensor,
    penalty: Tensor,
    uniform: Tensor,
) -> Tensor:
    """One token per row through Turbo's chain (:func:`turbo_logits`): the most likely
    one where the temperature is 0, a draw elsewhere."""
    final = turbo_logits(
        logits, seen=seen, temperature=temperature, top_k=top_k, top_p=top_p, penalty=penalty
    )
    return _draw(final, greedy_from=final, temperature=temperature, uniform=uniform)
