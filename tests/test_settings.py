"""Settings: defaults, PARROT_* variables, .env, and one-line errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings, SettingsError, load_settings
from engine.config import SeparationModel, TTSModel


def test_defaults() -> None:
    settings = load_settings()
    assert settings.discord_token is None
    assert settings.data_dir == Path("data")
    assert settings.device == "auto"
    assert settings.tts_model is TTSModel.ORIGINAL
    assert settings.separation_model is SeparationModel.HTDEMUCS
    assert settings.models_dir is None
    assert settings.torch_threads == 0
    assert settings.log_level == "INFO"
    assert settings.max_upload_mb == 25.0
    assert settings.min_sample_seconds < settings.max_sample_seconds
    assert settings.queue_size > 0


def test_derived_paths() -> None:
    settings = load_settings(data_dir=Path("/srv/parrot"))
    assert settings.database_path == Path("/srv/parrot/parrot.db")
    assert settings.voices_dir == Path("/srv/parrot/voices")
    assert settings.cache_dir == Path("/srv/parrot/cache")
    assert settings.outputs_dir == Path("/srv/parrot/outputs")
    assert load_settings(max_upload_mb=1).max_upload_bytes == 1024 * 1024


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARROT_DEVICE", " CUDA:1 ")
    monkeypatch.setenv("PARROT_TTS_MODEL", "turbo")
    monkeypatch.setenv("PARROT_SEPARATION_MODEL", "htdemucs_ft")
    monkeypatch.setenv("PARROT_LOG_LEVEL", "debug")
    monkeypatch.setenv("PARROT_MAX_TEXT_CHARS", "42")
    monkeypatch.setenv("PARROT_QUEUE_SIZE", "3")
    monkeypatch.setenv("PARROT_TORCH_THREADS", "4")
    monkeypatch.setenv("PARROT_MODELS_DIR", "/models")
    monkeypatch.setenv("DISCORD_TOKEN", "abc.def")
    settings = load_settings()
    assert settings.device == "cuda:1"
    assert settings.tts_model is TTSModel.TURBO
    assert settings.separation_model is SeparationModel.HTDEMUCS_FT
    assert settings.log_level == "DEBUG"
    assert settings.max_text_chars == 42
    assert settings.queue_size == 3
    assert settings.torch_threads == 4
    assert settings.models_dir == Path("/models")
    assert settings.require_token() == "abc.def"


@pytest.mark.parametrize("variable", ["PARROT_DATA", "PARROT_DATA_DIR"])
def test_data_dir_aliases(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str) -> None:
    monkeypatch.setenv(variable, str(tmp_path / "elsewhere"))
    settings = load_settings()
    assert settings.data_dir == tmp_path / "elsewhere"
    assert settings.database_path == tmp_path / "elsewhere" / "parrot.db"


def test_engine_config_carries_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARROT_DEVICE", "cpu")
    monkeypatch.setenv("PARROT_TTS_MODEL", "multilingual")
    monkeypatch.setenv("PARROT_SPEECH_SCHEDULING", "serial")
    monkeypatch.setenv("PARROT_MAX_SPEECH_BATCH", "4")
    monkeypatch.setenv("PARROT_SPEECH_DTYPE", "bfloat16")
    config = load_settings(data_dir=Path("d")).engine_config()
    assert config.device == "cpu"
    assert config.tts_model is TTSModel.MULTILINGUAL
    assert config.speech_scheduling == "serial" and config.max_speech_batch == 4
    assert config.speech_dtype == "bfloat16"
    assert config.data_dir == Path("d")


def test_dotenv_in_the_working_directory_is_read() -> None:
    Path(".env").write_text(
        "DISCORD_TOKEN=from-dotenv\nPARROT_DEVICE=cpu\nPARROT_DATA=/from/dotenv\n"
        "UNRELATED_SETTING=ignored\n",
        encoding="utf-8",
    )
    settings = load_settings()
    assert settings.require_token() == "from-dotenv"
    assert settings.device == "cpu"
    assert settings.data_dir == Path("/from/dotenv")


def test_environment_beats_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    Path(".env").write_text("PARROT_DEVICE=cpu\n", encoding="utf-8")
    monkeypatch.setenv("PARROT_DEVICE", "mps")
    assert load_settings().device == "mps"


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValidationError):
        settings.device = "cpu"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PARROT_DEVICE", "gpu"),
        ("PARROT_DEVICE", "cuda:x"),
        ("PARROT_LOG_LEVEL", "LOUD"),
        ("PARROT_MAX_UPLOAD_MB", "-1"),
        ("PARROT_MAX_UPLOAD_MB", "0"),
        ("PARROT_MAX_TEXT_CHARS", "-5"),
        ("PARROT_QUEUE_SIZE", "0"),
        ("PARROT_QUEUE_SIZE", "many"),
        ("PARROT_DECODE_TIMEOUT_SECONDS", "-0.5"),
        ("PARROT_TORCH_THREADS", "-1"),
        ("PARROT_TTS_MODEL", "bogus"),
        ("PARROT_FIRST_AUDIO_TOKENS", "5"),
        ("PARROT_MAX_SPEECH_BATCH", "-1"),
        ("PARROT_SPEECH_SCHEDULING", "sometimes"),
        ("PARROT_SPEECH_DTYPE", "int8"),
    ],
)
def test_invalid_values_are_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("invalid setting ")
    assert variable in message
    assert raised.value.__cause__ is None  # no pydantic traceback chained on


def test_max_sample_seconds_must_exceed_the_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARROT_MIN_SAMPLE_SECONDS", "10")
    monkeypatch.setenv("PARROT_MAX_SAMPLE_SECONDS", "10")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert "\n" not in message
    assert "PARROT_MAX_SAMPLE_SECONDS" in message
    assert "PARROT_MIN_SAMPLE_SECONDS" in message

    monkeypatch.setenv("PARROT_MAX_SAMPLE_SECONDS", "10.5")
    assert load_settings().max_sample_seconds == 10.5


def test_several_errors_are_reported_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARROT_DEVICE", "gpu")
    monkeypatch.setenv("PARROT_LOG_LEVEL", "chatty")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert "\n" not in message
    assert "PARROT_DEVICE='gpu'" in message
    assert "PARROT_LOG_LEVEL='chatty'" in message


def test_invalid_dotenv_value_is_reported(tmp_path: Path) -> None:
    Path(".env").write_text("PARROT_DEVICE=gpu\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="PARROT_DEVICE"):
        load_settings()


@pytest.mark.parametrize("token", [None, "", "   "])
def test_require_token_explains_where_to_put_it(token: str | None) -> None:
    overrides = {} if token is None else {"discord_token": token}
    settings = load_settings(**overrides)
    with pytest.raises(SettingsError) as raised:
        settings.require_token()
    message = str(raised.value)
    assert "DISCORD_TOKEN" in message
    assert ".env" in message
    assert "\n" not in message


def test_require_token_strips_whitespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "  tok  ")
    assert load_settings().require_token() == "tok"


def test_token_is_not_shown_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "very-secret-token")
    settings = load_settings()
    assert "very-secret-token" not in repr(settings)
    assert "very-secret-token" not in str(settings)


def test_settings_constructor_without_env_file_ignores_dotenv() -> None:
    Path(".env").write_text("PARROT_DEVICE=cpu\n", encoding="utf-8")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.device == "auto"
