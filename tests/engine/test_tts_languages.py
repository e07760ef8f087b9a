"""What the model registry says about languages and style, and the English-only models'
refusal of other languages: pure logic, no model."""

from __future__ import annotations

import pytest

from engine.api import Capability, InvalidSpeechParamsError, SpeechParams, TTSModel, tts_model
from engine.tts.chatterbox import MULTILINGUAL_LANGUAGES
from engine.tts.chatterbox_prompt import check_english
from engine.tts.errors import EnglishOnlyError, UnsupportedLanguageError
from engine.tts.languages import LANGUAGE_NAMES


def test_every_multilingual_language_has_a_name_and_only_turbo_ignores_style() -> None:
    assert set(LANGUAGE_NAMES) == set(MULTILINGUAL_LANGUAGES)
    multilingual = tts_model(TTSModel.MULTILINGUAL)
    assert multilingual.language_name("fr") == "French" and multilingual.speaks("FR")
    assert not multilingual.english_only
    for model in (TTSModel.ORIGINAL, TTSModel.TURBO):
        assert tts_model(model).english_only and not tts_model(model).speaks("fr")
    for model in TTSModel:
        guided = model is not TTSModel.TURBO
        assert tts_model(model).offers(Capability.GUIDANCE) is guided
        assert tts_model(model).offers(Capability.EXPRESSIVENESS) is guided


@pytest.mark.parametrize("variant", [TTSModel.ORIGINAL, TTSModel.TURBO])
def test_english_only_models_refuse_another_language(variant: TTSModel) -> None:
    check_english(variant, None)
    check_english(variant, "EN")
    with pytest.raises(UnsupportedLanguageError, match="speaks only English") as raised:
        check_english(variant, "fr")
    assert isinstance(raised.value, EnglishOnlyError)
    assert "PARROT_TTS_MODEL" not in raised.value.for_member()


def test_a_refused_parameter_names_itself_and_its_range() -> None:
    with pytest.raises(InvalidSpeechParamsError) as raised:
        SpeechParams(cfg_weight=0.0)
    error = raised.value
    assert (error.parameter, error.bounds, error.low_open) == ("cfg_weight", (0.0, 1.0), True)
    with pytest.raises(InvalidSpeechParamsError) as raised:
        SpeechParams(seed=-1)
    assert raised.value.parameter == "seed"
