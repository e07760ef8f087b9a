"""The names of the languages Parrot's TTS models speak, by ISO 639-1 code.

The codes are the models' own (``SpeechParams.language``); the names are English, for
people choosing one (the bot's autocomplete, the CLI's help).
"""

from __future__ import annotations

LANGUAGE_NAMES: dict[str, str] = {
    "ar": "Arabic",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fi": "Finnish",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "ms": "Malay",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "sv": "Swedish",
    "sw": "Swahili",
    "tr": "Turkish",
    "zh": "Chinese",
}


def language_name(code: str) -> str:
    """``French`` for ``fr``; an unknown code is returned as it is."""
    return LANGUAGE_NAMES.get(code.lower(), code)
