"""Speech parameters and output clean-up: pure logic, no model."""

from __future__ import annotations

import numpy as np
import pytest

from engine.tts import InvalidSpeechParamsError, SpeechParams
from engine.tts.params import MAX_TOKENS_PER_CHUNK, token_budget
from engine.tts.postprocess import trim_trailing_noise


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cfg_weight", 0.0),
        ("cfg_weight", 1.5),
        ("exaggeration", -0.1),
        ("exaggeration", 2.5),
        ("temperature", 0.0),
        ("top_p", 0.0),
        ("min_p", 1.5),
        ("repetition_penalty", 0.5),
        ("temperature", float("nan")),
        ("seed", -1),
        ("decoder_steps", 0),
        ("max_tokens_per_chunk", 0),
        ("max_tokens_per_chunk", MAX_TOKENS_PER_CHUNK + 1),
    ],
)
def test_out_of_range_parameters_are_refused(field: str, value: float) -> None:
    with pytest.raises(InvalidSpeechParamsError, match=field):
        SpeechParams(**{field: value})


def test_defaults_are_valid() -> None:
    assert SpeechParams().cfg_weight > 0


def test_token_budget_is_bounded_and_grows_with_text() -> None:
    short, long = token_budget("Hi.", SpeechParams()), token_budget("word " * 60, SpeechParams())
    assert 100 <= short < long <= MAX_TOKENS_PER_CHUNK
    assert token_budget("x" * 5000, SpeechParams()) == MAX_TOKENS_PER_CHUNK
    assert token_budget("anything", SpeechParams(max_tokens_per_chunk=12)) == 12


def test_trailing_noise_is_trimmed_with_a_fade() -> None:
    rate = 24_000
    t = np.arange(rate) / rate
    speech = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    hiss = (np.random.default_rng(1).standard_normal(rate) * 0.001).astype(np.float32)
    trimmed = trim_trailing_noise(np.concatenate([speech, hiss]), rate)
    assert rate <= len(trimmed) <= rate + rate * 0.12
    assert abs(trimmed[-1]) < 1e-3


def test_trimming_keeps_clips_without_a_tail() -> None:
    rate = 24_000
    tone = (0.3 * np.sin(np.arange(rate) * 0.05)).astype(np.float32)
    assert len(trim_trailing_noise(tone, rate)) >= rate - rate * 0.02
    assert len(trim_trailing_noise(np.zeros(10, dtype=np.float32), rate)) == 10
