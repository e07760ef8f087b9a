"""Which language a member means, among those the configured TTS model speaks.

``/say``, ``/speech language`` and ``/settings`` take a language by code (what the
autocomplete sends), by English name, or as a Discord locale (``pt-BR``).
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.errors import UserFacingError
from engine.api import RegisteredTTSModel, tts_models

MAX_CHOICES = 25  # Discord's limit for autocomplete


def known_languages() -> tuple[str, ...]:
    """Every language code any registered model speaks."""
    return tuple(dict.fromkeys(code for entry in tts_models() for code in entry.languages))


def describe(model: RegisteredTTSModel, code: str) -> str:
    """``French (fr)``."""
    return f"{model.language_name(code)} ({code})"


def _find(model: RegisteredTTSModel, typed: str) -> str | None:
    text = typed.strip().lower()
    if text.endswith(")") and "(" in text:  # a label the autocomplete showed, "French (fr)"
        text = text[text.rindex("(") + 1 : -1].strip()
    known = known_languages()
    for candidate in (text, text.replace("_", "-").split("-")[0]):
        if candidate in known:
            return candidate
    return next((code for code in known if model.language_name(code).lower() == text), None)


def resolve_language(model: RegisteredTTSModel, typed: str) -> str:
    """The code of the language ``typed`` names, if the model speaks it; otherwise a
    refusal that says why (unknown language, or a model that does not speak it)."""
    code = _find(model, typed)
    if code is None:
        shown = discord.utils.escape_markdown(typed.strip()[:40])
        raise UserFacingError(f"I don't know the language `{shown}`; pick one from the list.")
    if not model.speaks(code):
        raise not_spoken(model, code)
    return code


def not_spoken(model: RegisteredTTSModel, code: str) -> UserFacingError:
    name = model.language_name(code)
    if model.english_only:
        return UserFacingError(
            f"This bot's voice model speaks only English, so I can't speak {name}. "
            "The bot owner can switch to the multilingual model."
        )
    return UserFacingError(f"This bot's voice model doesn't speak {name}.")


def language_choices(model: RegisteredTTSModel, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete: the model's languages whose name or code contains what was typed."""
    typed = current.strip().lower()
    labels = [(describe(model, code), code) for code in model.languages]
    matches = [(label, code) for label, code in labels if typed in label.lower()]
    return [app_commands.Choice(name=label, value=code) for label, code in matches[:MAX_CHOICES]]
