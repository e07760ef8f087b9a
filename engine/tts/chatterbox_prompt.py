"""One sentence's prompt for Chatterbox's T3: its text tokens and the voice's conditioning.

Both Parrot's own decoders and the serial path (Chatterbox's loop) start from these, so
text normalisation, language checks and exaggeration are the same for both.
"""

from __future__ import annotations

from typing import Any

from engine.config import TTSModel
from engine.tts.errors import EnglishOnlyError, UnsupportedLanguageError
from engine.tts.params import SpeechParams


def guided_text_tokens(
    model: Any, module: Any, variant: TTSModel, text: str, language: str | None
) -> Any:
    """The sentence's 1-D text tokens framed by T3's start and stop text tokens (original
    and multilingual); ``text`` is normalised by the variant's ``punc_norm`` first."""
    import torch  # deferred: torch costs seconds to import

    text = module.punc_norm(text)
    if variant is TTSModel.MULTILINGUAL:
        code = (language or "en").lower()
        if code not in module.SUPPORTED_LANGUAGES:
            raise UnsupportedLanguageError(f"language {code!r} is not supported by the model")
        tokens = model.tokenizer.text_to_tokens(text, language_id=code)
    else:
        check_english(variant, language)
        tokens = model.tokenizer.text_to_tokens(text)
    hp = model.t3.hp
    body = tokens.reshape(-1).to(torch.long)
    start = torch.tensor([hp.start_text_token], dtype=torch.long)
    stop = torch.tensor([hp.stop_text_token], dtype=torch.long)
    return torch.cat([start, body.cpu(), stop])


def check_english(variant: TTSModel, language: str | None) -> None:
    """The English-only variants refuse another language rather than read it as English."""
    if language is not None and language.lower() != "en":
        raise EnglishOnlyError(
            f"the {variant.value} model speaks only English, not {language!r}; "
            "PARROT_TTS_MODEL=multilingual speaks 23 languages"
        )


def turbo_text_tokens(model: Any, module: Any, text: str, language: str | None = None) -> Any:
    """The sentence's GPT-2 tokenizer ids, ``(1, n)``, as Chatterbox Turbo feeds them."""
    check_english(TTSModel.TURBO, language)
    encoded = model.tokenizer(
        module.punc_norm(text), return_tensors="pt", padding=True, truncation=True
    )
    return encoded.input_ids


def conditioning(conditionals: Any, params: SpeechParams, *, device: Any, dtype: Any) -> Any:
    """A fresh ``T3Cond`` for the voice with the request's exaggeration, on ``device`` in
    ``dtype`` (``T3Cond.to`` casts in place, so the cached one is never touched)."""
    import torch  # deferred: torch costs seconds to import
    from chatterbox.models.t3.modules.cond_enc import T3Cond

    current = conditionals.t3
    emotion = current.emotion_adv
    if torch.is_tensor(emotion):
        emotion = params.exaggeration * torch.ones_like(emotion)
    fresh = T3Cond(
        speaker_emb=current.speaker_emb,
        clap_emb=current.clap_emb,
        cond_prompt_speech_tokens=current.cond_prompt_speech_tokens,
        cond_prompt_speech_emb=current.cond_prompt_speech_emb,
        emotion_adv=emotion,
    )
    return fresh.to(device=device, dtype=dtype)
