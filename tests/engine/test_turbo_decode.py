"""Parrot's batched Turbo T3 decode loop against Chatterbox's own ``T3.inference_turbo``,
on a random 2-layer Turbo T3 (GPT-2 backbone).

What every decoder promises (seeds, bfloat16, stopping, busy, CUDA graphs) is in
tests.engine.decoder_contract, run here on this decoder's case.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch
from torch import Tensor
from transformers.generation.logits_process import (
    LogitsProcessorList,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from engine.tts.decode.factory import decoder_for
from engine.tts.decode.params import DecodeParams, FinishReason, StepOutput
from engine.tts.decode.sampling import turbo_logits
from engine.tts.decode.turbo import TurboT3Decoder
from tests.checkpoints.chatterbox_turbo import (
    SPEECH_VOCABULARY,
    random_turbo_t3,
)
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
    largest_difference,
    logits_of,
    run,
    tokens_of,
    turbo_conditioning,
    turbo_text,
)

LOGITS_TOLERANCE = 1e-4
"""Largest difference allowed between two float32 computations of the same logits (about
±2.6 here): against Chatterbox's loop the measured difference is 0, within a batch of
eight 2.4e-6."""
MAX_LENGTH = 512
SAMPLED = DecodeParams(temperature=0.8, top_k=1000, top_p=0.95, seed=7, max_new_tokens=40)
conditioning, text = turbo_conditioning, turbo_text


@pytest.fixture(scope="module")
def t3() -> Iterator[Any]:
    torch.manual_seed(1234)  # threads as the run sets them (test.sh: one per worker)
    yield random_turbo_t3()


@pytest.fixture(scope="module")
def case(t3: Any) -> DecoderCase:
    """The contract's case (tests.engine.decoder_contract): Chatterbox Turbo's GPT-2 T3."""
    return DecoderCase("turbo", t3, MAX_LENGTH, conditioning, text, SAMPLED)


@pytest.fixture(scope="module")
def alone_runs(t3: Any) -> dict[str, list[StepOutput]]:
    """Twelve steps of a greedy and of a sampled request, each alone in its decoder."""
    return {
        "greedy": alone(t3, seed=1, length=20, params=GREEDY, steps=12),
        "sampled": alone(t3, seed=2, length=9, params=SAMPLED, steps=12),
    }


def alone(t3: Any, seed: int, length: int, params: DecodeParams, steps: int) -> list[StepOutput]:
    decoder = TurboT3Decoder(t3, max_requests=1, max_length=MAX_LENGTH)
    decoder.add_request(conditioning(seed), text(length, seed), params)
    return run(decoder, steps)


def test_logits_and_greedy_tokens_match_chatterbox_loop(t3: Any) -> None:
    steps = 10
    # top_k = 1 makes Turbo's sampler greedy (its temperature 0 means 1, not greedy).
    params = DecodeParams(temperature=0.0, top_k=1, max_new_tokens=steps)
    voice = conditioning(1)
    ours = alone(t3, seed=1, length=20, params=params, steps=steps)

    captured: list[Tensor] = []
    hook = t3.speech_head.register_forward_hook(
        lambda _module, _inputs, output: captured.append(output[0, -1].clone())
    )
    try:
        theirs = t3.inference_turbo(
            conditioning(1),
            text(20, 1),
            temperature=1.0,
            top_k=1,
            top_p=1.0,
            repetition_penalty=params.repetition_penalty,
            max_gen_len=steps - 1,  # it draws one token before its loop
        )
    finally:
        hook.remove()

    assert tokens_of(ours, 1) == theirs[0].tolist()
    assert largest_difference(logits_of(ours, 1), captured) < LOGITS_TOLERANCE
    assert ours[-1].finished[0].reason is FinishReason.BUDGET
    assert voice.cond_prompt_speech_emb is None  # the caller's conditioning is untouched


def test_sampling_chain_is_turbos(t3: Any) -> None:
    """Temperature, top_k, top_p, then the penalty, as Turbo's logits processors."""
    generator = torch.Generator().manual_seed(5)
    logits = 3 * torch.randn(3, SPEECH_VOCABULARY, generator=generator)
    produced = torch.randint(0, SPEECH_VOCABULARY, (3, 30), generator=generator)
    temperature, top_k, top_p, penalty = 0.7, 40, 0.9, 1.3
    processors: Any = LogitsProcessorList(  # typed for LongTensor / FloatTensor arguments
        [
            TemperatureLogitsWarper(temperature),
            TopKLogitsWarper(top_k),
            TopPLogitsWarper(top_p),
            RepetitionPenaltyLogitsProcessor(penalty),
        ]
    )
    expected: Tensor = processors(produced, logits.clone())
    seen = torch.zeros(3, SPEECH_VOCABULARY, dtype=torch.bool).scatter(1, produced, True)

    def column(value: float) -> Tensor:
        return torch.full((3, 1), value)

    ours = turbo_logits(
        logits,
        seen=seen,
        temperature=column(temperature),
        top_k=column(top_k),
        top_p=column(top_p),
        penalty=column(penalty),
    )
    kept = expected.isfinite()
    assert torch.equal(ours.isfinite(), kept)
    kept_per_row = kept.sum(dim=1)
    assert int(kept_per_row.min()) > 1
    assert int(kept_per_row.max()) <= top_k
    torch.testing.assert_close(ours[kept], expected[kept], rtol=0, atol=1e-6)


def test_a_request_decodes_the_same_among_seven_others(
    t3: Any, alone_runs: dict[str, list[StepOutput]]
) -> None:
    steps = 12
    greedy_alone, sampled_alone = alone_runs["greedy"], alone_runs["sampled"]

    decoder = decoder_for(t3, max_requests=8, max_length=MAX_LENGTH)
    assert isinstance(decoder, TurboT3Decoder)
    early = decoder.add_request(conditioning(3), text(30, 3), DecodeParams(max_new_tokens=3))
    others = [
        decoder.add_request(
            conditioning(seed),
            text(5 + 3 * seed, seed),
            DecodeParams(seed=seed, top_k=50, max_new_tokens=40),
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
    decoder.cancel(others[1])  # the last request (greedy) moves into the freed row
    assert decoder.active_ids.index(greedy) == 2
    outputs += run(decoder, steps - 5)

    assert tokens_of(outputs, greedy) == tokens_of(greedy_alone, 1)
    assert tokens_of(outputs, sampled) == tokens_of(sampled_alone, 1)
    for request, reference in ((greedy, greedy_alone), (sampled, sampled_alone)):
        assert largest_difference(logits_of(outputs, request), logits_of(reference, 1)) < (
            LOGITS_TOLERANCE
        )
    assert len(tokens_of(outputs, joiner)) == steps - 2


def test_static_shapes_decode_like_dynamic_ones(
    t3: Any, alone_runs: dict[str, list[StepOutput]]
) -> None:
    """The fixed-shape forward that CUDA graphs record, run eagerly: padded buckets over
    the cache's full width give the same tokens as the exact-shape forward."""
    steps = 6
    greedy_alone, sampled_alone = alone_runs["greedy"][:steps], alone_runs["sampled"][:steps]

    decoder = TurboT3Decoder(t3, max_requests=4, max_length=MAX_LENGTH)
    assert decoder.use_static_shapes((2, 4), capture=False) is False  # nothing recorded
    decoder.add_request(conditioning(3), text(30, 3), DecodeParams(max_new_tokens=2))
    sampled = decoder.add_request(conditioning(2), text(9, 2), SAMPLED)
    greedy = decoder.add_request(conditioning(1), text(20, 1), GREEDY)
    outputs = run(decoder, steps)  # three requests in bucket 4, then two in bucket 2

    assert tokens_of(outputs, greedy) == tokens_of(greedy_alone, 1)
    assert tokens_of(outputs, sampled) == tokens_of(sampled_alone, 1)
    assert largest_difference(logits_of(outputs, greedy), logits_of(greedy_alone, 1)) < (
        LOGITS_TOLERANCE
    )
    with pytest.raises(RuntimeError, match="no request is active"):
        decoder.use_static_shapes(capture=False)
    with pytest.raises(ValueError, match="CUDA"):
        TurboT3Decoder(t3, max_requests=2, max_length=MAX_LENGTH).use_static_shapes(capture=True)


def test_turbo_takes_flat_text_and_refuses_lengths_past_its_positions(t3: Any) -> None:
    decoder = TurboT3Decoder(t3, max_requests=1, max_length=MAX_LENGTH)
    decoder.add_request(conditioning(2), text(10, 2).reshape(-1), GREEDY)  # 1-D works too
    with pytest.raises(ValueError, match="max_length"):
        TurboT3Decoder(t3, max_requests=1, max_length=400).add_request(
            conditioning(1), text(10, 1), GREEDY
        )
    with pytest.raises(ValueError, match="max_length"):
        TurboT3Decoder(t3, max_requests=1, max_length=t3.cfg.n_positions + 1)
