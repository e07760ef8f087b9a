"""What the batched T3 decoder tests share: each decoder's case (its model, voice
conditioning and text tokens as its Chatterbox variant takes them) and helpers that run a
decoder and read what it produced.

Random weights never emit the stop token (nor repeat one token) by themselves: the tests
that need them bias the speech head (:class:`BiasedHead`). :func:`watch_decoder` records
the steps of the decoder an engine builds (a test double around the real one).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from chatterbox.models.t3.modules.cond_enc import T3Cond
from torch import Tensor, nn

from engine.api import Engine
from engine.tts.decode.base import RowDecoder
from engine.tts.decode.factory import decoder_for
from engine.tts.decode.params import DecodeParams, StepOutput
from tests.checkpoints.chatterbox_turbo import TEXT_VOCABULARY, VOICE_PROMPT_TOKENS

GREEDY = DecodeParams(temperature=0.0, max_new_tokens=40)


@dataclass(frozen=True)
class DecoderCase:
    """One Chatterbox variant's T3 and how its requests look."""

    name: str
    t3: Any
    max_length: int
    conditioning: Callable[[int], Any]
    """A voice's conditioning from a seed."""
    text: Callable[[int, int], Tensor]
    """Text tokens (length, seed) as the variant's tokenizer hands them over."""
    sampled: DecodeParams
    """The variant's own sampling defaults, with a seed."""

    def decoder(self, t3: Any = None, *, max_requests: int = 1) -> RowDecoder:
        return decoder_for(
            self.t3 if t3 is None else t3, max_requests=max_requests, max_length=self.max_length
        )

    def alone(
        self, seed: int, length: int, params: DecodeParams, steps: int, t3: Any = None
    ) -> list[StepOutput]:
        """``steps`` steps of one request alone in its decoder."""
        decoder = self.decoder(t3)
        decoder.add_request(self.conditioning(seed), self.text(length, seed), params)
        return run(decoder, steps)


def guided_conditioning(seed: int) -> Any:
    generator = torch.Generator().manual_seed(seed)
    return T3Cond(
        speaker_emb=torch.randn(1, 256, generator=generator),
        cond_prompt_speech_tokens=torch.randint(0, 6561, (1, 150), generator=generator),
        emotion_adv=0.5 * torch.ones(1, 1, 1),
    )


def guided_text(length: int, seed: int) -> Tensor:
    """Text tokens framed by Chatterbox's start (255) and stop (0) text tokens."""
    body = torch.randint(1, 255, (length,), generator=torch.Generator().manual_seed(seed))
    return torch.cat([torch.tensor([255]), body, torch.tensor([0])])


def turbo_conditioning(seed: int) -> Any:
    generator = torch.Generator().manual_seed(seed)
    return T3Cond(
        speaker_emb=torch.randn(1, 256, generator=generator),
        cond_prompt_speech_tokens=torch.randint(
            0, 6561, (1, VOICE_PROMPT_TOKENS), generator=generator
        ),
    )


def turbo_text(length: int, seed: int) -> Tensor:
    """GPT-2 tokenizer ids as Turbo's tokenizer returns them: ``(1, n)``, no framing."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, TEXT_VOCABULARY, (1, length), generator=generator)


def run(decoder: RowDecoder, steps: int) -> list[StepOutput]:
    return [decoder.step(keep_logits=True) for _ in range(steps)]


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


@dataclass
class DecoderWatch:
    widths: list[int] = field(default_factory=list)
    step_times: list[float] = field(default_factory=list)
    finished_at: dict[int, float] = field(default_factory=dict)


def watch_decoder(engine: Engine) -> DecoderWatch:
    """Record every step of the decoder the engine builds (installed before it is built)."""
    backend: Any = engine._backend
    build = backend.speech_decoder
    watch = DecoderWatch()

    def watched_build(max_requests: int, max_length: int) -> Any:
        decoder = build(max_requests, max_length)
        step = decoder.step

        def watched_step(**kwargs: Any) -> Any:
            watch.widths.append(len(decoder.active_ids))
            output = step(**kwargs)
            now = time.monotonic()
            watch.step_times.append(now)
            for finished in output.finished:
                watch.finished_at[finished.request_id] = now
            return output

        decoder.step = watched_step
        return decoder

    backend.speech_decoder = watched_build
    return watch
