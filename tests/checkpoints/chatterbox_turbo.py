"""A random-weight Chatterbox Turbo T3: the real ``T3`` class with its GPT-2 medium
backbone, shrunk to a few layers (hidden size stays 1024).

Turbo's hyperparameters are set the way ``ChatterboxTurboTTS.from_local`` sets them
(GPT-2 tokenizer vocabulary, 6563 speech tokens, no learned positions of its own, a
375-token voice prompt, no perceiver and no exaggeration).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.checkpoints.cache import build_once, versions_key
from tests.checkpoints.chatterbox import CHARACTERS

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


def _write_tokenizer(folder: Path) -> None:
    """A character-level tokenizer that ``AutoTokenizer.from_pretrained`` loads as Turbo's
    (ids well below Turbo's text vocabulary; end-of-text doubles as padding, as there)."""
    import json

    from tokenizers import AddedToken, Regex, Tokenizer, models, pre_tokenizers

    vocab = {"<|endoftext|>": 0}
    for character in dict.fromkeys(CHARACTERS):
        vocab.setdefault(character, len(vocab))
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<|endoftext|>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tokenizer.add_special_tokens([AddedToken("<|endoftext|>", special=True)])
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "eos_token": "<|endoftext|>",
        "model_max_length": 1024,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config))


def _build(folder: Path) -> None:
    import torch
    from chatterbox.models.s3gen import S3Gen
    from chatterbox.models.t3 import T3
    from chatterbox.models.voice_encoder import VoiceEncoder
    from safetensors.torch import save_file

    torch.manual_seed(4321)

    def save(module: torch.nn.Module, name: str) -> None:
        state = {k: v.detach().contiguous().clone() for k, v in module.state_dict().items()}
        save_file(state, str(folder / name))

    save(VoiceEncoder(), "ve.safetensors")
    with shrunk_gpt2():
        save(T3(turbo_hp()), "t3_turbo_v1.safetensors")  # with wte: the loader drops it
    save(S3Gen(meanflow=True), "s3gen_meanflow.safetensors")
    _write_tokenizer(folder)


def turbo_checkpoint() -> Path:
    """The cached random Turbo checkpoint folder (built on first use: about 30 s, 1.3 GB).
    Load it inside :func:`shrunk_gpt2`."""
    key = versions_key(
        "chatterbox-tts", "torch", "transformers", "tokenizers", extra=f"gpt2={T3_LAYERS}"
    )
    return build_once("chatterbox-turbo-random", key, _build)
