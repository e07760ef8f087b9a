"""Parrot's batched T3 decode loop against Chatterbox's own loop, on a random 2-layer T3.

Random weights never emit the stop token (nor repeat one token) by themselves: those
tests bias the speech head.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from chatterbox.models.t3 import T3
from chatterbox.models.t3.modules.cond_enc import T3Cond
from torch import Tensor, nn

from engine.tts.decode.base import RowDecoder
from engine.tts.decode.factory import decoder_for
from engine.tts.decode.guided import GuidedT3Decoder
from engine.tts.decode.params import DecodeParams, DecoderBusyError, FinishReason, StepOutput
from tests.checkpoints.chatterbox import shrunk_t3

LOGITS_TOLERANCE = 1e-4
"""Largest difference allowed between two computations of the same guided logits (float32,
logits within about ±2: measured differences are below 3e-6)."""
BFLOAT16_TOLERANCE = 0.1
"""Largest difference allowed between the bfloat16 model's guided logits (cast to float32)
and the float32 model's; measured 0.017 to 0.025 over 30 steps (bfloat16 keeps about 3
significant digits)."""
GREEDY = DecodeParams(temperature=0.0, max_new_tokens=40)
SAMPLED = DecodeParams(temperature=0.8, min_p=0.05, top_p=0.9, seed=7, max_new_tokens=40)


@pytest.fixture(scope="module")
def t3() -> Iterator[Any]:
    torch.manual_seed(1234)  # threads as the run sets them (test.sh: one per worker)
    with shrunk_t3(2):
        model = T3().eval()
    yield model


def conditioning(seed: int) -> Any:
    generator = torch.Generator().manual_seed(seed)
    return T3Cond(
        speaker_emb=torch.randn(1, 256, generator=generator),
        cond_prompt_speech_tokens=torch.randint(0, 6561, (1, 150), generator=generator),
        emotion_adv=0.5 * torch.ones(1, 1, 1),
    )


def text(length: int, seed: int) -> Tensor:
    """Text tokens framed by Chatterbox's start (255) and stop (0) text tokens."""
    body = torch.randint(1, 255, (length,), generator=torch.Generator().manual_seed(seed))
    return torch.cat([torch.tensor([255]), body, torch.tensor([0])])


def run(decoder: RowDecoder, steps: int) -> list[StepOutput]:
    return [decoder.step(keep_logits=True) for _ in range(steps)]


def alone(t3: Any, seed: int, length: int, params: DecodeParams, steps: int) -> list[StepOutput]:
    decoder = GuidedT3Decoder(t3, max_requests=1, max_length=128)
    decoder.add_request(conditioning(seed), text(length, seed), params)
    return run(decoder, steps)


def tokens_of(outputs: list[StepOutput], request_id: int) -> list[int]:
    return [output.tokens[request_id] for output in outputs if request_id in output.tokens]


def logits_of(outputs: list[StepOutput], request_id: int) -> list[Tensor]:
    return [o.logits[request_id] for o in outputs if request_id in o.logits]


def largest_difference(first: list[Tensor], second: list[Tensor]) -> float:
    assert len(first) == len(second)
    return max(float((a - b).abs().max()) for a, b in zip(first, second, strict=True))


def difference_while_tokens_agree(ours: list[StepOutput], reference: list[StepOutput]) -> float:
    """The largest logits difference of request 1 over the steps fed the same tokens by
    both runs (a step's logits follow from the tokens before it)."""
    tokens, expected = tokens_of(ours, 1), tokens_of(reference, 1)
    pairs = enumerate(zip(tokens, expected, strict=True))
    last = next((index for index, (a, b) in pairs if a != b), len(tokens) - 1)
    return largest_difference(logits_of(ours, 1)[: last + 1], logits_of(reference, 1)[: last + 1])


class BiasedHead(nn.Module):
    """The speech head with a large bonus for one token, while ``enabled``."""

    def __init__(self, head: nn.Module, token: int) -> None:
        super().__init__()
        self.head, self.token, self.enabled = head, token, False

    def forward(self, hidden: Tensor) -> Tensor:
        logits: Tensor = self.head(hidden)
        if self.enabled:
            logits[..., self.token] += 1e4
        return logits


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


def test_same_seed_gives_the_same_tokens(t3: Any) -> None:
    first = tokens_of(alone(t3, seed=2, length=9, params=SAMPLED, steps=15), 1)
    again = tokens_of(alone(t3, seed=2, length=9, params=SAMPLED, steps=15), 1)
    other_seed = dataclasses.replace(SAMPLED, seed=8)
    other = tokens_of(alone(t3, seed=2, length=9, params=other_seed, steps=15), 1)
    assert first == again
    assert first != other


def test_bfloat16_model_decodes_close_to_float32(t3: Any) -> None:
    steps = 10
    reference = alone(t3, seed=1, length=20, params=GREEDY, steps=steps)
    half = copy.deepcopy(t3).to(torch.bfloat16)
    assert isinstance(decoder_for(half, max_requests=1, max_length=128), GuidedT3Decoder)
    ours = alone(half, seed=1, length=20, params=GREEDY, steps=steps)
    tokens = tokens_of(ours, 1)
    assert len(tokens) == steps
    assert all(0 <= token < t3.hp.speech_tokens_dict_size for token in tokens)
    assert all(logits.dtype == torch.float32 for logits in logits_of(ours, 1))
    assert difference_while_tokens_agree(ours, reference) < BFLOAT16_TOLERANCE


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


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_graphs_decode_like_eager(t3: Any) -> None:
    on_gpu = copy.deepcopy(t3).cuda()

    def decode(cuda_graphs: bool) -> list[StepOutput]:
        decoder = GuidedT3Decoder(on_gpu, max_requests=4, max_length=128, cuda_graphs=cuda_graphs)
        assert decoder.uses_cuda_graphs is cuda_graphs
        for seed, params in ((1, GREEDY), (2, SAMPLED), (3, DecodeParams(max_new_tokens=3))):
            decoder.add_request(conditioning(seed), text(10 + seed, seed), params)
        return run(decoder, 8)

    eager, graphed = decode(False), decode(True)
    for request in (1, 2):
        assert tokens_of(graphed, request) == tokens_of(eager, request)
        assert largest_difference(logits_of(graphed, request), logits_of(eager, request)) < 1e-3


def test_stop_token_ends_a_request(t3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    head = BiasedHead(t3.speech_head, t3.hp.stop_speech_token)
    monkeypatch.setattr(t3, "speech_head", head)
    decoder = GuidedT3Decoder(t3, max_requests=2, max_length=128)
    request = decoder.add_request(conditioning(1), text(10, 1), GREEDY)
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


def test_budget_ends_a_request(t3: Any) -> None:
    outputs = alone(t3, seed=1, length=10, params=DecodeParams(max_new_tokens=5), steps=8)
    (finished,) = [f for output in outputs for f in output.finished]
    assert finished.reason is FinishReason.BUDGET
    assert len(finished.tokens) == 5
    assert outputs[5:] == [StepOutput()] * 3


def test_runaway_repetition_ends_a_request(t3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    head = BiasedHead(t3.speech_head, 100)
    head.enabled = True
    monkeypatch.setattr(t3, "speech_head", head)
    params = DecodeParams(seed=3, repeat_limit=4, max_new_tokens=40)
    outputs = alone(t3, seed=1, length=10, params=params, steps=6)
    (finished,) = [f for output in outputs for f in output.finished]
    assert finished.reason is FinishReason.REPETITION
    assert finished.tokens == [100] * 4


def test_a_full_decoder_is_busy_until_a_request_leaves(t3: Any) -> None:
    decoder = GuidedT3Decoder(t3, max_requests=1, max_length=128)
    first = decoder.add_request(conditioning(1), text(10, 1), GREEDY)
    with pytest.raises(DecoderBusyError):
        decoder.add_request(conditioning(2), text(10, 2), GREEDY)
    run(decoder, 2)
    cancelled = decoder.cancel(first)
    assert cancelled.reason is FinishReason.CANCELLED
    assert len(cancelled.tokens) == 2
    decoder.add_request(conditioning(2), text(10, 2), GREEDY)
    decoder.cancel(decoder.active_ids[0])
    with pytest.raises(ValueError, match="top_k"):
        decoder.add_request(conditioning(2), text(10, 2), dataclasses.replace(GREEDY, top_k=5))
    with pytest.raises(ValueError, match="max_length"):
        GuidedT3Decoder(t3, max_requests=1, max_length=64).add_request(
            conditioning(1), text(10, 1), GREEDY
        )
