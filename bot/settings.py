"""Typed settings from the environment and ``.env``.

Every Parrot setting is ``PARROT_<NAME>``; the bot token is plain ``DISCORD_TOKEN``
because that is what every hosting guide calls it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.links.policy import DEFAULT_SONG_HOSTS, parse_hosts
from engine.api import (
    EngineConfig,
    EngineKind,
    ParrotError,
    SeparationModel,
    SpeechDtype,
    SpeechScheduling,
    TTSModel,
    is_valid_device_name,
)

TOKEN_HELP = (
    "DISCORD_TOKEN is not set: create a bot at https://discord.com/developers/applications "
    "(Bot → Reset Token) and put DISCORD_TOKEN=<token> in the environment or in .env "
    "in the directory you start Parrot from"
)

PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]


class Settings(BaseSettings):
    """All of Parrot's configuration, validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="PARROT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "PARROT_DISCORD_TOKEN")
    )
    data_dir: Path = Field(
        default=Path("data"), validation_alias=AliasChoices("PARROT_DATA", "PARROT_DATA_DIR")
    )
    device: str = "auto"
    tts_model: TTSModel = TTSModel.ORIGINAL
    separation_model: SeparationModel = SeparationModel.HTDEMUCS
    models_dir: Path | None = None
    """A local folder holding model weights; without it they come from the Hugging Face hub."""
    references_dir: Path = Path("references")
    """Preset voices: one audio file, or one folder of samples, per voice."""
    retention_days: Annotated[int, Field(ge=0)] = 0
    """Generated audio older than this many days is deleted; 0 keeps it forever."""
    torch_threads: Annotated[int, Field(ge=0, le=256)] = 0
    speech_scheduling: SpeechScheduling = SpeechScheduling.BATCHED
    """``batched``: every server's sentences in one decode step; ``serial``: one by one."""
    max_speech_batch: Annotated[int, Field(ge=0, le=256)] = 0
    """Texts spoken at once before /say is told the engine is busy; 0: 16 on CUDA, 8 on CPU."""
    speech_dtype: SpeechDtype = SpeechDtype.FLOAT32
    speech_cuda_graphs: bool = False
    first_audio_tokens: Annotated[int, Field(ge=10, le=500)] = 25
    """Speech tokens (25 a second) a sentence's first audio waits for; at least 10, the
    fewest from which the streaming vocoder can give audio (look-ahead, overlap, context)."""
    log_level: str = "INFO"

    # limits
    max_upload_mb: PositiveFloat = 25.0
    min_sample_seconds: PositiveFloat = 3.0
    max_sample_seconds: PositiveFloat = 300.0
    max_song_seconds: PositiveFloat = 480.0
    max_text_chars: PositiveInt = 1000
    queue_size: PositiveInt = 32
    decode_timeout_seconds: PositiveFloat = 60.0
    idle_unload_seconds: PositiveFloat = 900.0
    """Models leave GPU memory after this long without work."""
    max_queue_per_guild: PositiveInt = 10
    """Utterances waiting in one server's speech queue before /say is refused."""
    say_cooldown_seconds: Annotated[float, Field(ge=0)] = 2.0
    """Per member and server, between two /say commands."""
    max_voices_per_member: PositiveInt = 10
    max_samples_per_voice: PositiveInt = 10
    voice_connect_timeout_seconds: PositiveFloat = 20.0
    detect_cooldown_seconds: Annotated[float, Field(ge=0)] = 10.0
    """Per member, between two /detect checks that were accepted."""
    max_concurrent_detects: PositiveInt = 2
    """/detect checks decoded at the same time, bot-wide; more are told to retry."""

    # covers
    max_song_upload_mb: PositiveFloat = 100.0
    max_model_upload_mb: PositiveFloat = 512.0
    """Each of a singing model's files (.pth and .index)."""
    max_covers_per_member: PositiveInt = 1
    """Covers one member may have queued or running at once."""
    max_cover_queue: PositiveInt = 8
    """Covers waiting bot-wide before /cover answers that the bot is busy."""
    concurrent_covers: PositiveInt = 1
    """Covers made at the same time (each still shares the GPU queue with speech)."""
    cover_cache_gb: PositiveFloat = 20.0
    """Stems and later cover stages are kept up to this size; the least recently used go."""
    singing_decoder_steps: Annotated[int, Field(ge=1, le=50)] | None = None
    """S3Gen steps for zero-shot singing; None keeps the model's default."""
    song_hosts: Annotated[tuple[str, ...], NoDecode] = DEFAULT_SONG_HOSTS
    """Hosts (and their subdomains) that songs by link come from, comma-separated; empty
    turns links off."""
    song_download_timeout_seconds: PositiveFloat = 180.0
    """A song fetched by link must arrive within this time, metadata included."""

    # speech
    read_messages: bool = True
    """Auto-reading a text channel needs Discord's privileged Message Content intent."""
    speech_decoder_steps: Annotated[int, Field(ge=1, le=50)] | None = None
    """S3Gen flow-matching steps (fewer is faster, rougher); None keeps the model's default."""
    speech_max_tokens: Annotated[int, Field(ge=1, le=1000)] | None = None
    """Cap on speech tokens per sentence; None derives a generous cap from the text."""
    max_speech_temperature: Annotated[float, Field(gt=0, le=2)] = 1.5
    """The highest sampling temperature members may ask /say for (0.8 is the default)."""
    max_speech_expressiveness: Annotated[float, Field(ge=0, le=2)] = 2.0
    """The highest expressiveness (Chatterbox's exaggeration) members may ask for."""

    # training (/voice train)
    allow_cpu_training: bool = False
    """Training on a CPU takes days; the owner must allow it explicitly."""
    min_training_seconds: PositiveFloat = 60.0
    """Clean speech a voice needs before /voice train starts."""
    recommended_training_seconds: PositiveFloat = 600.0
    """Below this, training runs but says more audio would sound better."""
    max_training_epochs: Annotated[int, Field(ge=1, le=2000)] = 500
    default_training_epochs: Annotated[int, Field(ge=1, le=2000)] = 100
    training_batch_size: Annotated[int, Field(ge=0, le=64)] = 0
    """Segments per training step; 0 picks what fits the device."""
    max_training_jobs: PositiveInt = 1
    """Trainings queued or running bot-wide (each holds the GPU for a long time)."""

    # scale-out (Ray Serve, the ``ray`` extra)
    engine: EngineKind = EngineKind.EMBEDDED
    """``embedded`` runs models in this process; ``ray`` on a Ray cluster's Serve replicas."""
    ray_address: str = "local"
    """A running cluster (``ray://host:10001`` or ``host:6379``), or ``local`` to start one."""
    ray_gpus_per_replica: Annotated[float, Field(ge=0, le=8)] = 0.0
    """GPUs each speech, enrolment, cover and training replica takes (fractions share one)."""
    ray_min_replicas: PositiveInt = 1
    ray_max_replicas: PositiveInt = 1
    shards: str = ""
    """Gateway shards: empty for one connection, ``auto`` for Discord's advice, or a count."""

    @field_validator("shards")
    @classmethod
    def _check_shards(cls, value: str) -> str:
        value = value.strip().lower()
        if value in {"", "auto"} or (value.isdigit() and 1 <= int(value) <= 1024):
            return value
        raise ValueError("expected empty, auto or a shard count (1 to 1024)")

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        value = value.strip().lower()
        if not is_valid_device_name(value):
            raise ValueError("expected auto, cpu, cuda, cuda:N or mps")
        return value

    @field_validator("song_hosts", mode="before")
    @classmethod
    def _parse_song_hosts(cls, value: object) -> tuple[str, ...]:
        if isinstance(value, str | list | tuple):
            return parse_hosts(value)
        raise ValueError("expected host names separated by commas")

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value

    @field_validator("max_sample_seconds")
    @classmethod
    def _check_sample_bounds(cls, value: float, info: ValidationInfo) -> float:
        minimum = info.data.get("min_sample_seconds")
        if minimum is not None and value <= minimum:
            raise ValueError("must be larger than PARROT_MIN_SAMPLE_SECONDS")
        return value

    # derived paths -----------------------------------------------------------------
    @property
    def database_path(self) -> Path:
        return self.data_dir / "parrot.db"

    @property
    def voices_dir(self) -> Path:
        return self.data_dir / "voices"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def outputs_dir(self) -> Path:
        return self.data_dir / "outputs"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def covers_dir(self) -> Path:
        return self.data_dir / "covers"

    def require_token(self) -> str:
        """The bot token, or a :class:`SettingsError` that says where to get one."""
        if self.discord_token is None or not self.discord_token.get_secret_value().strip():
            raise SettingsError(TOKEN_HELP)
        return self.discord_token.get_secret_value().strip()

    def engine_config(self) -> EngineConfig:
        return EngineConfig(
            data_dir=self.data_dir,
            device=self.device,
            tts_model=self.tts_model,
            separation_model=self.separation_model,
            models_dir=self.models_dir,
            max_song_seconds=self.max_song_seconds,
            max_song_bytes=int(self.max_song_upload_mb * 1024 * 1024),
            torch_threads=self.torch_threads,
            speech_scheduling=self.speech_scheduling,
            max_speech_batch=self.max_speech_batch,
            speech_dtype=self.speech_dtype,
            speech_cuda_graphs=self.speech_cuda_graphs,
            first_audio_tokens=self.first_audio_tokens,
        )


class SettingsError(ParrotError):
    """Configuration that stops start-up; the message is one line for the owner."""


def _env_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    if info is not None and isinstance(info.validation_alias, AliasChoices):
        return str(info.validation_alias.choices[0])
    return f"PARROT_{field.upper()}"


def describe_validation_error(error: ValidationError) -> str:
    """Condense pydantic's report into one line that names the variables to fix."""
    parts = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "?"
        value = item.get("input")
        shown = f"={value!r}" if isinstance(value, str | int | float) else ""
        parts.append(f"{_env_name(field)}{shown}: {item['msg']}")
    return "invalid setting " + "; ".join(parts)


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning validation failures into a one-line :class:`SettingsError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # pydantic validates the values
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None
