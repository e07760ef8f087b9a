"""Parrot's batched T3 decode loop against Chatterbox's own loop, on a random 2-layer T3.

What every decoder promises (seeds, bfloat16, stopping, busy, CUDA graphs) is in
tests.engine.decoder_contract, run here on this decoder's case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from chatterbox.models.t3 import T3
from torch import Tensor

from engine.tts.decode.guided import GuidedT3Decoder
from engine.tts.decode.params import DecodeParams, FinishReason, StepOutput
from tests.checkpoints.chatterbox import shrunk_t3
from tests.engine.decoder_contract import (  # run here on this module's case  # noqa: F401
    test_a_full_decoder_is_busy_until_a_request_leaves,
    test_bfloat16_model_decodes_close_to_float32,
    test_budget_ends_a_request,
    test_cuda_graphs_decode_like_eager,
    test_runaway_repetition_ends_a_request,
    test_same_seed_gives_the_same_tokens,
    test_stop_token_ends_a_request,
)
from tests.engine.decoder_support import (
    GREEDY,
    DecoderCase,
    guided_conditioning,
    guided_text,
    largest_difference,
    logits_of,
    run,
    tokens_of,
)

LOGITS_TOLERANCE = 1e-4
"""Largest difference allowed between two computations of the same guided logits (float32,
logits within about ±2: measured differences are below 3e-6)."""
SAMPLED = DecodeParams(temperature=0.8, min_p=0.05, top_p=0.9, seed=7, max_new_tokens=40)
conditioning, text = guided_conditioning, guided_text


@pytest.fixture(scope="module")
def t3() -> Iterator[Any]:
    torch.manual_seed(1234)  # threads as the run sets them (test.sh: one per worker)
    with shrunk_t3(2):
        model = T3().eval()
    yield model


@pytest.fixture(scope="module")
def case(t3: Any) -> DecoderCase:
    """The contract's case (tests.engine.decoder_contract): Chatterbox's original T3."""
    return DecoderCase("guided", t3, 128, conditioning, text, SAMPLED)


def alone(t3: Any, seed: int, length: int, params: DecodeParams, steps: int) -> list[StepOutput]:
    decoder = GuidedT3Decoder(t3, max_requests=1, max_length=128)
    decoder.add_request(conditioning(seed), text(length, seed), params)
    return run(decoder, steps)


def test_logits_and_greedy_tokens_match_chatterbox_loop(t3: Any) -> None:
    steps, cfg_weight = 10, 0.5
    params = DecodeParams(temperature=0.0, cfg_weight=cfg_weight, max_new_tokens=steps)
    ours = alone(t3, seed=1, length=20, params=params, steps=steps)

    captured: list[Tensor] = []
    hook = t3.speech_head.register_forward_hook(
        lambda _module, _inputs, output: captured.append(output[:, -1].clone())
    )
    try:
        # min_p = 1 keeps only the most likely token: Chatterbox's sampler becomes greedy.
        theirs = t3.inference(
            t3_cond=conditioning(1),
            text_tokens=text(20, 1).expand(2, -1),
            max_new_tokens=steps,
            temperature=1.0,
            top_p=1.0,
            min_p=1.0,
            repetition_penalty=params.repetition_penalty,
            cfg_weight=cfg_weight,
        )
    finally:
        hook.remove()
    their_logits = [row[0] + cfg_weight * (row[0] - row[1]) for row in captured[:steps]]

    assert tokens_of(ours, 1) == theirs[0].tolist()
    assert largest_difference(logits_of(ours, 1), their_logits) < LOGITS_TOLERANCE
    assert ours[-1].finished[0].reason is FinishReason.BUDGET


def test_a_request_decodes_the_same_among_seven_others(t3: Any) -> None:
    steps = 12
    greedy_alone = alone(t3, seed=1, length=20, params=GREEDY, steps=steps)
    sampled_alone = alone(t3, seed=2, length=9, params=SAMPLED, steps=steps)

    decoder = GuidedT3Decoder(t3, max_requests=8, max_length=128)
    early = decoder.add_request(conditioning(3), text(30, 3), DecodeParams(max_new_tokens=3))
    others = [
        decoder.add_request(
            conditioning(seed), text(5 + 3 * seed, seed), DecodeParams(seed=seed, max_new_tokens=40)
        )
        for seed in (4, 5, 6, 9)
    ]
    sampled = decoder.add_request(conditioning(2), text(9, 2), SAMPLED)
    greedy = decoder.add_request(conditioning(1), text(20, 1), GREEDY)
    outputs = run(decoder, 2)
    joiner = decoder.add_request(
        conditioning(8), text(14, 8), DecodeParams(seed=8, max_new_tokens=40)
    )
    assert len(decoder.active_ids) == 8
    outputs += run(decoder, 1)  # the early request spends its budget and leaves
    assert outputs[-1].finished[0].request_id == early
    assert early not in decoder.active_ids
    outputs += run(decoder, 2)
    decoder.cancel(others[1])  # the last request (greedy) moves into the freed rows
    assert decoder.active_ids.index(greedy) == 2
    outputs += run(decoder, steps - 5)

    assert tokens_of(outputs, greedy) == tokens_of(greedy_alone, 1)
    assert tokens_of(outputs, sampled) == tokens_of(sampled_alone, 1)
    for request, reference in ((greedy, greedy_alone), (sampled, sampled_alone)):
        assert largest_difference(logits_of(outputs, request), logits_of(reference, 1)) < (
            LOGITS_TOLERANCE
        )
    assert len(tokens_of(outputs, joiner)) == steps - 2


def test_static_shapes_decode_like_dynamic_ones(t3: Any) -> None:
    """The fixed-shape forward that CUDA graphs record, run eagerly (padded buckets over
    the cache's full width), decodes as the exact-shape forward."""
    steps = 5
    reference = alone(t3, seed=1, length=20, params=GREEDY, steps=steps)
    decoder = GuidedT3Decoder(t3, max_requests=4, max_length=128)
    decoder.use_static_shapes((4,), capture=False)
    decoder.add_request(conditioning(2), text(9, 2), SAMPLED)
    greedy = decoder.add_request(conditioning(1), text(20, 1), GREEDY)
    outputs = run(decoder, steps)  # two requests padded to four
    assert tokens_of(outputs, greedy) == tokens_of(reference, 1)
    assert largest_difference(logits_of(outputs, greedy), logits_of(reference, 1)) < (
        LOGITS_TOLERANCE
    )


def test_guided_refusals(t3: Any) -> None:
    decoder = GuidedT3Decoder(t3, max_requests=1, max_length=128)
    with pytest.raises(ValueError, match="top_k"):
        decoder.add_request(conditioning(2), text(10, 2), dataclasses.replace(GREEDY, top_k=5))
    with pytest.raises(ValueError, match="max_length"):
        GuidedT3Decoder(t3, max_requests=1, max_length=64).add_request(
            conditioning(1), text(10, 1), GREEDY
        )
