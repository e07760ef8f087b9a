"""How Parrot speaks for a member: the language and style they asked for in ``/say``, else
their saved preferences, else the server's language and the model's defaults.

Every value is checked against the owner's limits and the engine's ranges
(:class:`engine.api.SpeechParams` validates them), and refused in the member's words:
they read "expressiveness" and "guidance", the engine's ``exaggeration`` and
``cfg_weight``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.errors import UserFacingError
from bot.languages import not_spoken, resolve_language
from bot.runtime import speech_params
from bot.settings import Settings
from bot.store.settings import SpeakingPreferences
from engine.api import Capability, InvalidSpeechParamsError, RegisteredTTSModel, SpeechParams

STYLE_FIELDS = ("exaggeration", "cfg_weight", "temperature", "seed")
"""The style values, by the engine's names (``SpeakingPreferences.style`` has the same)."""
MEMBER_NAMES = {
    "exaggeration": "expressiveness",
    "cfg_weight": "guidance",
    "temperature": "temperature",
    "seed": "seed",
    "language": "language",
}
"""What members call each preference (the command options' names)."""
STYLE_HELP = {
    "expressiveness": "How expressive, 0 to 2 (default 0.5)",
    "guidance": "How closely to follow the voice, above 0 up to 1 (default 0.5)",
    "temperature": "How varied, above 0 up to 2 (default 0.8)",
    "seed": "The same seed, text and voice give the same audio",
}
"""The style options' descriptions, shared by ``/say`` and ``/speech style``."""
SEED_MAX = 2**53 - 1  # Discord's largest integer option
MODEL_DEFAULTS = SpeechParams()
CHANGE_HINT = "Change it with `/speech style`, or clear it with `/speech reset`."


@dataclass(frozen=True, slots=True)
class StyleRequest:
    """Style values a member typed into a command; None: not given."""

    exaggeration: float | None = None
    cfg_weight: float | None = None
    temperature: float | None = None
    seed: int | None = None

    def given(self) -> dict[str, float | int]:
        values = {name: getattr(self, name) for name in STYLE_FIELDS}
        return {name: value for name, value in values.items() if value is not None}


def with_style(params: SpeechParams, style: Mapping[str, float | int]) -> SpeechParams:
    """``params`` with the style values given (by the engine's names); validated."""
    seed = style.get("seed")
    return dataclasses.replace(
        params,
        exaggeration=float(style.get("exaggeration", params.exaggeration)),
        cfg_weight=float(style.get("cfg_weight", params.cfg_weight)),
        temperature=float(style.get("temperature", params.temperature)),
        seed=params.seed if seed is None else int(seed),
    )


def shown(value: float) -> str:
    """``0.7``, ``2``; a seed in full (``:g`` would round it)."""
    return str(value) if isinstance(value, int) else f"{value:g}"


def _allowed(error: InvalidSpeechParamsError, high: float) -> str:
    assert error.bounds is not None
    low = shown(error.bounds[0])
    if error.low_open:
        return f"above {low} and at most {shown(high)}"
    return f"between {low} and {shown(high)}"


def owner_limit(settings: Settings, name: str) -> float | None:
    """The owner's ceiling for a style value (``PARROT_MAX_SPEECH_*``), if any."""
    return {
        "temperature": settings.max_speech_temperature,
        "exaggeration": settings.max_speech_expressiveness,
    }.get(name)


def check_style_value(settings: Settings, name: str, value: float, *, saved: bool) -> None:
    """Refuse a value outside the engine's range or above the owner's limit, naming it as
    the member does (and, for a saved one, how to change it)."""
    label = MEMBER_NAMES[name]
    given = shown(value)
    limit = owner_limit(settings, name)
    try:
        with_style(MODEL_DEFAULTS, {name: value})
    except InvalidSpeechParamsError as error:
        high = error.bounds[1] if error.bounds is not None else value
        allowed = _allowed(error, min(high, limit if limit is not None else high))
        if saved:
            raise UserFacingError(
                f"Your saved {label} ({given}) is not allowed: it must be {allowed}. " + CHANGE_HINT
            ) from None
        raise UserFacingError(
            f"{label.capitalize()} must be {allowed} (you gave {given})."
        ) from None
    if limit is not None and value > limit:
        if saved:
            raise UserFacingError(
                f"Your saved {label} ({given}) is above this bot's limit of {shown(limit)}. "
                + CHANGE_HINT
            )
        raise UserFacingError(
            f"{label.capitalize()} can be at most {shown(limit)} on this bot (you gave {given})."
        )


def ignored_note(model: RegisteredTTSModel, names: Iterable[str]) -> str | None:
    """A note when the model ignores some of the style values named (Turbo has neither
    expressiveness nor guidance)."""
    needs = {"exaggeration": Capability.EXPRESSIVENESS, "cfg_weight": Capability.GUIDANCE}
    ignored = [MEMBER_NAMES[n] for n in names if n in needs and not model.offers(needs[n])]
    if not ignored:
        return None
    return f"Note: the {model.model.value} model ignores {' and '.join(ignored)}."


def chosen_language(
    model: RegisteredTTSModel,
    typed: str | None,
    saved: SpeakingPreferences,
    server_language: str | None,
) -> str | None:
    """The language to speak: the one asked for, else the member's, else the server's
    (None: the model's own default). A language asked for or saved by the member that the
    model does not speak is refused; a server default it does not speak is passed over."""
    if typed is not None and typed.strip():
        return resolve_language(model, typed)
    if saved.language is not None:
        if not model.speaks(saved.language):
            refusal = not_spoken(model, saved.language)
            raise UserFacingError(
                f"{refusal} (Your language here is saved as `{saved.language}`: choose "
                "another with `/speech language`, or clear it with `/speech reset`.)"
            )
        return saved.language
    if server_language is not None and model.speaks(server_language):
        return server_language
    return None


def speaking_params(
    settings: Settings,
    model: RegisteredTTSModel,
    *,
    asked: StyleRequest,
    language: str | None,
    saved: SpeakingPreferences,
    server_language: str | None,
) -> tuple[SpeechParams, list[str]]:
    """The engine's parameters for one request, and notes for the member (a style value
    the model ignores). ``language`` is what the member typed, if anything."""
    given = asked.given()
    for name, value in given.items():
        check_style_value(settings, name, value, saved=False)
    stored = saved.style
    for name, value in stored.items():
        if name not in given:
            check_style_value(settings, name, value, saved=True)
    code = chosen_language(model, language, saved, server_language)
    styled = with_style(speech_params(settings), {**stored, **given})
    params = dataclasses.replace(styled, language=code)
    note = ignored_note(model, given)
    return params, [note] if note else []
