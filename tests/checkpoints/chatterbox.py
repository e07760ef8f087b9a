"""A random-weight Chatterbox (original) checkpoint: real VoiceEncoder, T3 and S3Gen classes.

T3 is shrunk to a few transformer layers (hidden size must stay 1024), which must be
in force both when the checkpoint is built and when it is loaded: use
:func:`shrunk_t3` around both. S3Gen stays full size (264 M parameters).
"""

from __future__ import annotations

import contextlib
import json
import string
from collections.abc import Iterator
from pathlib import Path

from tests.checkpoints.cache import build_once, versions_key

T3_LAYERS = 2
SPECIALS_BEFORE = ["[STOP]", "[UNK]", "[SPACE]", "[PAD]", "[SEP]", "[CLS]", "[MASK]"]
START_TOKEN_ID = 255  # T3Config.start_text_token
CHARACTERS = string.ascii_letters + string.digits + string.punctuation + "'"


@contextlib.contextmanager
def shrunk_t3(layers: int = T3_LAYERS) -> Iterator[None]:
    """Make ``T3()`` build a ``layers``-deep Llama while the block runs."""
    from chatterbox.models.t3.llama_configs import LLAMA_CONFIGS

    config = LLAMA_CONFIGS["Llama_520M"]
    original = config["num_hidden_layers"]
    config["num_hidden_layers"] = layers
    try:
        yield
    finally:
        config["num_hidden_layers"] = original


def write_character_tokenizer(path: Path) -> None:
    """A character-level ``tokenizers`` file with Chatterbox's special tokens at their ids."""
    from tokenizers import AddedToken, Regex, Tokenizer, models, pre_tokenizers

    vocab: dict[str, int] = {token: index for index, token in enumerate(SPECIALS_BEFORE)}
    for character in dict.fromkeys(CHARACTERS):
        vocab.setdefault(character, len(vocab))
    assert len(vocab) < START_TOKEN_ID
    while len(vocab) < START_TOKEN_ID:  # no holes: tokenizers warns about them
        vocab[f"[UNUSED{len(vocab)}]"] = len(vocab)
    vocab["[START]"] = START_TOKEN_ID
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tokenizer.add_special_tokens(
        [AddedToken(token, special=True) for token in [*SPECIALS_BEFORE, "[START]"]]
    )
    tokenizer.save(str(path))
    json.loads(path.read_text())  # fail early if the file is not JSON


def _build(folder: Path, t3_layers: int = T3_LAYERS) -> None:
    import torch
    from chatterbox.models.s3gen import S3Gen
    from chatterbox.models.t3 import T3
    from chatterbox.models.voice_encoder import VoiceEncoder
    from safetensors.torch import save_file

    torch.manual_seed(1234)

    def save(module: torch.nn.Module, name: str) -> None:
        state = {k: v.detach().contiguous().clone() for k, v in module.state_dict().items()}
        save_file(state, str(folder / name))

    save(VoiceEncoder(), "ve.safetensors")
    with shrunk_t3(t3_layers):
        save(T3(), "t3_cfg.safetensors")
    save(S3Gen(), "s3gen.safetensors")
    write_character_tokenizer(folder / "tokenizer.json")


def chatterbox_checkpoint() -> Path:
    """The cached random checkpoint folder (built on first use: ~30 s, 1.3 GB)."""
    key = versions_key(
        "chatterbox-tts", "torch", "transformers", "tokenizers", extra=f"t3={T3_LAYERS}"
    )
    return build_once("chatterbox-random", key, _build)


def write_full_size(folder: Path) -> None:
    """A random checkpoint with the production T3 depth: loads without any patching."""
    from chatterbox.models.t3.llama_configs import LLAMA_CONFIGS

    _build(folder, t3_layers=LLAMA_CONFIGS["Llama_520M"]["num_hidden_layers"])


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        description="Write a random-weight Chatterbox checkpoint of production size into "
        "DIR/chatterbox, so that `PARROT_MODELS_DIR=DIR parrot say ...` runs without the hub "
        "(the speech is noise: the weights are random)."
    )
    parser.add_argument("directory", type=Path)
    target = parser.parse_args().directory / "chatterbox"
    target.mkdir(parents=True, exist_ok=True)
    write_full_size(target)
    print(f"wrote a random Chatterbox checkpoint to {target}")
