"""Parrot's batched T3 decode loop against Chatterbox's own loop, on a random 2-layer T3.

Random weights never emit the stop token (nor repeat one token) by themselves: those
tests bias the speech head.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from chatterbox.models.t3 import T3
from chatterbox.models.t3.modules.cond_enc import T3Cond
from torch import Tensor, nn

from engine.tts.decode import (
    DecodeParams,
    DecoderBusyError,
    FinishReason,
    GuidedT3Decoder,
    StepOutput,
)
from tests.checkpoints.chatterbox import shrunk_t3

LOGITS_TOLERANCE = 1e-4
"""Largest difference allowed between two computations of the same guided logits (float32,
logits within about ±2: measured differences are below 3e-6)."""
GREEDY = DecodeParams(temperature=0.0, max_new_tokens=40)
SAMPLED = DecodeParams(temperature=0.8, min_p=0.05, top_p=0.9, seed=7, max_new_tokens=40)


@pytest.fixture(scope="module")
def t3() -> Iterator[Any]:
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    torch.manual_seed(1234)
    with shrunk_t3(2):
        model = T3().eval()
    yield model
    torch.set_num_threads(threads)


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


def run(decoder: GuidedT3Decoder, steps: int) -> list[StepOutput]:
    return [decoder.step(keep_logits=True) for _ in range(steps)]


def alone(t3: Any, seed: int, length: int, params: DecodeParams, steps: int) -> list[StepOutput]:
    decoder = GuidedT3Decoder(t3, max_requests=1, max_length=128)
    decoder.add_request(conditioning(seed), text(length, seed), params)
    return run(decoder, steps)


def tokens_of(outputs: list[StepOutput], request_id: int) -> list[int]:
    return [output.tokens[request_id] for output in outputs if request_id in output.tokens]


def logits_of(outputs: list[StepOutput], request_id: int) -> list[Tensor]:
    return [o.guided_logits[request_id] for o in outputs if request_id in o.guided_logits]


def largest_difference(first: list[Tensor], second: list[Tensor]) -> float:
    assert len(first) == len(second)
    return max(float((a - b).abs().max()) for a, b in zip(first, second, strict=True))


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
    with pytest.raises(ValueError, match="max_length"):
        GuidedT3Decoder(t3, max_requests=1, max_length=64).add_request(
            conditioning(1), text(10, 1), GREEDY
        )
