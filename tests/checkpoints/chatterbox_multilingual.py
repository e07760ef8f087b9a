"""A random-weight Chatterbox Multilingual checkpoint, laid out as
``ChatterboxMultilingualTTS.from_local`` reads it: ``ve.pt`` and ``s3gen.pt`` (torch
state dicts), ``t3_mtl23ls_v2.safetensors`` (T3 with the 2454-token multilingual text
vocabulary) and ``grapheme_mtl_merged_expanded_v1.json``.

T3 is shrunk like the original's (:func:`tests.checkpoints.chatterbox.shrunk_t3`, which
must be in force when it loads). The tokenizer is character-level with a token per
language (``[fr]``...), which the real ``MTLTokenizer`` puts in front of every text:
tests read the language a sentence was spoken in from its first text token.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.checkpoints.cache import build_once, versions_key
from tests.checkpoints.chatterbox import CHARACTERS, SPECIALS_BEFORE, START_TOKEN_ID, shrunk_t3

T3_LAYERS = 2
LANGUAGES = (
    *("ar", "da", "de", "el", "en", "es", "fi", "fr", "he", "hi", "it", "ja"),
    *("ko", "ms", "nl", "no", "pl", "pt", "ru", "sv", "sw", "tr", "zh"),
)
TOKENIZER_FILE = "grapheme_mtl_merged_expanded_v1.json"


def language_token(code: str) -> str:
    return f"[{code}]"


def write_multilingual_tokenizer(path: Path) -> dict[str, int]:
    """Chatterbox's special tokens at their ids, lower-case characters, then one token per
    language; returns the vocabulary (far below T3's 2454 text tokens)."""
    from tokenizers import AddedToken, Regex, Tokenizer, models, pre_tokenizers

    vocab: dict[str, int] = {token: index for index, token in enumerate(SPECIALS_BEFORE)}
    for character in dict.fromkeys(CHARACTERS.lower()):
        vocab.setdefault(character, len(vocab))
    while len(vocab) < START_TOKEN_ID:  # no holes: tokenizers warns about them
        vocab[f"[UNUSED{len(vocab)}]"] = len(vocab)
    vocab["[START]"] = START_TOKEN_ID
    for code in LANGUAGES:
        vocab[language_token(code)] = len(vocab)
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    specials = [*SPECIALS_BEFORE, "[START]", *map(language_token, LANGUAGES)]
    tokenizer.add_special_tokens([AddedToken(token, special=True) for token in specials])
    tokenizer.save(str(path))
    json.loads(path.read_text())  # fail early if the file is not JSON
    return vocab


def _build(folder: Path) -> None:
    import torch
    from chatterbox.models.s3gen import S3Gen
    from chatterbox.models.t3 import T3
    from chatterbox.models.t3.modules.t3_config import T3Config
    from chatterbox.models.voice_encoder import VoiceEncoder
    from safetensors.torch import save_file

    torch.manual_seed(2345)

    def state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
        return {k: v.detach().contiguous().clone() for k, v in module.state_dict().items()}

    torch.save(state(VoiceEncoder()), folder / "ve.pt")
    with shrunk_t3(T3_LAYERS):
        save_file(state(T3(T3Config.multilingual())), str(folder / "t3_mtl23ls_v2.safetensors"))
    torch.save(state(S3Gen()), folder / "s3gen.pt")
    write_multilingual_tokenizer(folder / TOKENIZER_FILE)


def multilingual_checkpoint() -> Path:
    """The cached random Multilingual checkpoint folder (built on first use). Load it
    inside :func:`tests.checkpoints.chatterbox.shrunk_t3`."""
    key = versions_key(
        "chatterbox-tts", "torch", "transformers", "tokenizers", extra=f"mtl-t3={T3_LAYERS}"
    )
    return build_once("chatterbox-multilingual-random", key, _build)
