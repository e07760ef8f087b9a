"""A random-weight Chatterbox Turbo T3: the real ``T3`` class with its GPT-2 medium
backbone, shrunk to a few layers (hidden size stays 1024).

Turbo's hyperparameters are set the way ``ChatterboxTurboTTS.from_local`` sets them
(GPT-2 tokenizer vocabulary, 6563 speech tokens, no learned positions of its own, a
375-token voice prompt, no perceiver and no exaggeration).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

T3_LAYERS = 2
TEXT_VOCABULARY = 50276
SPEECH_VOCABULARY = 6563
VOICE_PROMPT_TOKENS = 375


@contextlib.contextmanager
def shrunk_gpt2(layers: int = T3_LAYERS) -> Iterator[None]:
    """Make ``T3(turbo_hp())`` build a ``layers``-deep GPT-2 while the block runs."""
    from chatterbox.models.t3.llama_configs import LLAMA_CONFIGS

    config = LLAMA_CONFIGS["GPT2_medium"]
    original = config["n_layer"]
    config["n_layer"] = layers
    try:
        yield
    finally:
        config["n_layer"] = original


def turbo_hp() -> Any:
    """Chatterbox Turbo's ``T3Config``."""
    from chatterbox.models.t3.modules.t3_config import T3Config

    hp = T3Config(text_tokens_dict_size=TEXT_VOCABULARY)
    hp.llama_config_name = "GPT2_medium"
    hp.speech_tokens_dict_size = SPEECH_VOCABULARY
    hp.input_pos_emb = None
    hp.speech_cond_prompt_len = VOICE_PROMPT_TOKENS
    hp.use_perceiver_resampler = False
    hp.emotion_adv = False
    return hp


def random_turbo_t3(layers: int = T3_LAYERS) -> Any:
    """A Turbo T3 on random weights (seed torch first for the same weights), in eval
    mode, without GPT-2's unused token embedding (Turbo's loader drops it too)."""
    from chatterbox.models.t3 import T3

    with shrunk_gpt2(layers):
        t3 = T3(turbo_hp())
    del t3.tfmr.wte
    return t3.eval()
