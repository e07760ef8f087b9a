"""How /say's language and style are chosen and refused (bot.languages and
bot.exts.speech.style): pure logic, no Discord and no model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.errors import UserFacingError
from bot.exts.speech.style import StyleRequest, speaking_params
from bot.languages import resolve_language
from bot.settings import Settings
from bot.store.settings import SpeakingPreferences
from engine.api import TTSModel, tts_model

MULTILINGUAL = tts_model(TTSModel.MULTILINGUAL)
ENGLISH = tts_model(TTSModel.ORIGINAL)
TURBO = tts_model(TTSModel.TURBO)


@pytest.fixture
def owner_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        speech_decoder_steps=3,
        max_speech_temperature=1.2,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.mark.parametrize(
    ("typed", "code"),
    [("fr", "fr"), ("French", "fr"), (" GERMAN ", "de"), ("pt-BR", "pt"), ("Korean (ko)", "ko")],
)
def test_a_language_is_taken_by_code_name_locale_or_label(typed: str, code: str) -> None:
    assert resolve_language(MULTILINGUAL, typed) == code


def test_unknown_and_unspoken_languages_are_refused_with_the_reason() -> None:
    with pytest.raises(UserFacingError, match="I don't know the language `klingon`"):
        resolve_language(MULTILINGUAL, "klingon")
    with pytest.raises(UserFacingError, match="speaks only English, so I can't speak Spanish"):
        resolve_language(ENGLISH, "es")
    assert resolve_language(ENGLISH, "English") == "en"


def test_asked_beats_saved_beats_the_server_and_the_owner_knobs_stay(
    owner_settings: Settings,
) -> None:
    saved = SpeakingPreferences(language="es", exaggeration=0.9, temperature=1.0, seed=11)
    params, notes = speaking_params(
        owner_settings,
        MULTILINGUAL,
        asked=StyleRequest(temperature=0.6),
        language=None,
        saved=saved,
        server_language="de",
    )
    assert (params.language, params.exaggeration, params.temperature) == ("es", 0.9, 0.6)
    assert (params.seed, params.cfg_weight, params.decoder_steps) == (11, 0.5, 3)
    assert notes == []
    asked, _ = speaking_params(
        owner_settings,
        MULTILINGUAL,
        asked=StyleRequest(),
        language="it",
        saved=saved,
        server_language="de",
    )
    assert asked.language == "it"
    server, _ = speaking_params(
        owner_settings,
        MULTILINGUAL,
        asked=StyleRequest(),
        language=None,
        saved=SpeakingPreferences(),
        server_language="de",
    )
    assert server.language == "de" and server.temperature == 0.8


def test_saved_values_the_bot_no_longer_allows_are_explained(owner_settings: Settings) -> None:
    for saved, sentence in [
        (SpeakingPreferences(temperature=1.5), "Your saved temperature (1.5) is above this bot's"),
        (SpeakingPreferences(language="fr"), "speaks only English, so I can't speak French"),
    ]:
        with pytest.raises(UserFacingError, match=re.escape(sentence)) as raised:
            speaking_params(
                owner_settings,
                ENGLISH,
                asked=StyleRequest(),
                language=None,
                saved=saved,
                server_language=None,
            )
        assert "/speech" in str(raised.value)
    # A server default the model does not speak is passed over, not refused.
    params, _ = speaking_params(
        owner_settings,
        ENGLISH,
        asked=StyleRequest(),
        language=None,
        saved=SpeakingPreferences(),
        server_language="fr",
    )
    assert params.language is None


def test_turbo_notes_the_style_it_ignores(owner_settings: Settings) -> None:
    _, notes = speaking_params(
        owner_settings,
        TURBO,
        asked=StyleRequest(exaggeration=1.0, cfg_weight=0.3, seed=2),
        language=None,
        saved=SpeakingPreferences(),
        server_language=None,
    )
    assert notes == ["Note: the turbo model ignores expressiveness and guidance."]
