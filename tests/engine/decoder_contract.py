"""What every batched T3 decoder promises, whatever its backbone: the same seed decodes the
same, bfloat16 stays close to float32, a request ends on its stop token, its budget or a
runaway repetition, a full decoder is busy until a request leaves, and CUDA graphs decode
like eager steps.

Each decoder's test module imports these tests and defines the module-scoped ``case``
fixture (:class:`~tests.engine.decoder_support.DecoderCase`) they run on.
"""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch

from engine.tts.decode.factory import decoder_for
from engine.tts.decode.params import DecodeParams, DecoderBusyError, FinishReason, StepOutput
from tests.engine.decoder_support import (
    GREEDY,
    BiasedHead,
    DecoderCase,
    difference_while_tokens_agree,
    largest_difference,
    logits_of,
    run,
    tokens_of,
)

BFLOAT16_TOLERANCE = 0.1
"""Largest difference allowed between the bfloat16 model's logits (cast to float32) and the
float32 model's over the steps both fed the same tokens; measured 0.011 to 0.025 (bfloat16
keeps about 3 significant digits)."""


def test_same_seed_gives_the_same_tokens(case: DecoderCase) -> None:
    first = tokens_of(case.alone(seed=2, length=9, params=case.sampled, steps=15), 1)
    again = tokens_of(case.alone(seed=2, length=9, params=case.sampled, steps=15), 1)
    other_seed = dataclasses.replace(case.sampled, seed=8)
    other = tokens_of(case.alone(seed=2, length=9, params=other_seed, steps=15), 1)
    assert first == again
    assert first != other


def test_bfloat16_model_decodes_close_to_float32(case: DecoderCase) -> None:
    steps = 10
    reference = case.alone(seed=1, length=20, params=GREEDY, steps=steps)
    half = copy.deepcopy(case.t3).to(torch.bfloat16)
    assert type(case.decoder(half)) is type(case.decoder())
    ours = case.alone(seed=1, length=20, params=GREEDY, steps=steps, t3=half)
    tokens = tokens_of(ours, 1)
    assert len(tokens) == steps
    assert all(0 <= token < case.t3.hp.speech_tokens_dict_size for token in tokens)
    assert all(logits.dtype == torch.float32 for logits in logits_of(ours, 1))
    assert difference_while_tokens_agree(ours, reference) < BFLOAT16_TOLERANCE


def test_stop_token_ends_a_request(case: DecoderCase, monkeypatch: pytest.MonkeyPatch) -> None:
    head = BiasedHead(case.t3.speech_head, case.t3.hp.stop_speech_token)
    monkeypatch.setattr(case.t3, "speech_head", head)
    decoder = case.decoder(max_requests=2)
    request = decoder.add_request(case.conditioning(1), case.text(10, 1), case.sampled)
    first = run(decoder, 1)
    head.enabled = True  # the logits the next step draws from
    second = run(decoder, 2)
    assert second[0].finished == []
    (finished,) = second[1].finished
    assert finished.reason is FinishReason.STOP_TOKEN
    assert finished.tokens == tokens_of(first + second, request)
    assert len(finished.tokens) == 2
    assert request not in second[1].tokens
    assert decoder.active_ids == []


def test_budget_ends_a_request(case: DecoderCase) -> None:
    outputs = case.alone(seed=1, length=10, params=DecodeParams(max_new_tokens=5), steps=8)
    (finished,) = [f for output in outputs for f in output.finished]
    assert finished.reason is FinishReason.BUDGET
    assert len(finished.tokens) == 5
    assert outputs[5:] == [StepOutput()] * 3


def test_runaway_repetition_ends_a_request(
    case: DecoderCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = BiasedHead(case.t3.speech_head, 100)
    head.enabled = True
    monkeypatch.setattr(case.t3, "speech_head", head)
    params = dataclasses.replace(case.sampled, repeat_limit=4)
    outputs = case.alone(seed=1, length=10, params=params, steps=6)
    (finished,) = [f for output in outputs for f in output.finished]
    assert finished.reason is FinishReason.REPETITION
    assert finished.tokens == [100] * 4


def test_a_full_decoder_is_busy_until_a_request_leaves(case: DecoderCase) -> None:
    decoder = case.decoder()
    first = decoder.add_request(case.conditioning(1), case.text(10, 1), GREEDY)
    with pytest.raises(DecoderBusyError):
        decoder.add_request(case.conditioning(2), case.text(10, 2), GREEDY)
    run(decoder, 2)
    cancelled = decoder.cancel(first)
    assert cancelled.reason is FinishReason.CANCELLED
    assert len(cancelled.tokens) == 2
    decoder.add_request(case.conditioning(2), case.text(10, 2), GREEDY)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_graphs_decode_like_eager(case: DecoderCase) -> None:
    on_gpu = copy.deepcopy(case.t3).cuda()

    def decode(cuda_graphs: bool) -> list[StepOutput]:
        decoder = decoder_for(
            on_gpu, max_requests=4, max_length=case.max_length, cuda_graphs=cuda_graphs
        )
        assert decoder.uses_cuda_graphs is cuda_graphs
        for seed, params in ((1, GREEDY), (2, case.sampled), (3, DecodeParams(max_new_tokens=3))):
            decoder.add_request(case.conditioning(seed), case.text(10 + seed, seed), params)
        return run(decoder, 8)

    eager, graphed = decode(False), decode(True)
    for request in (1, 2):
        assert tokens_of(graphed, request) == tokens_of(eager, request)
        assert largest_difference(logits_of(graphed, request), logits_of(eager, request)) < 1e-3
