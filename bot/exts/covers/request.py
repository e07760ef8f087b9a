"""What a cover job keeps of its request, shared by the slash command, the runner, the CLI
and tests: the song's name and the style a member chose, validated in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bot.links import SongLimits, SongLinks
from bot.settings import Settings
from engine.api import (
    COVER_SEED,
    AudioFormat,
    ConversionParams,
    CoverParams,
    InvalidConversionParamsError,
    InvalidCoverParamsError,
    ParrotError,
    PitchMethod,
    SingingMethod,
)

KIND = "cover"
"""The ``kind`` of a cover's job and generation rows."""
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
"""For rows written before ``max_bytes`` was kept: Discord's smallest upload limit."""

DISCORD_OPTIONS = {
    "semitones": "`pitch`",
    "pitch_method": "`pitch_method`",
    "index_rate": "`index_rate`",
    "protect": "`protect`",
    "vocal_gain_db": "`vocal_gain`",
    "instrumental_gain_db": "`instrumental_gain`",
    "reverb": "`reverb`",
}
"""Style field → the ``/cover`` option that sets it, so that refusals name what was typed."""
CLI_OPTIONS = {
    "semitones": "--pitch",
    "pitch_method": "--pitch-method",
    "index_rate": "--index-rate",
    "protect": "--protect",
    "vocal_gain_db": "--vocal-gain",
    "instrumental_gain_db": "--instrumental-gain",
    "reverb": "--reverb",
}
"""The same for ``parrot cover``."""


class InvalidCoverStyleError(ParrotError, ValueError):
    """A style option out of range; the message names the option as the person typed it."""


@dataclass(frozen=True, slots=True)
class CoverStyle:
    """How a cover should sound: the engine's defaults unless a person chose otherwise."""

    semitones: int = 0
    """Key change of the whole song (vocals and instrumental)."""
    pitch_method: str = PitchMethod.RMVPE.value
    """RVC only: how the melody is read (see ``PitchMethod``)."""
    index_rate: float = 0.75
    """RVC only: share of the voice model's own features (its ``.index``)."""
    protect: float = 0.33
    """RVC only: keeps consonants and breaths (0.5: off)."""
    vocal_gain_db: float = 0.0
    instrumental_gain_db: float = 0.0
    reverb: float = 0.15

    def cover_params(self, *, output_format: AudioFormat, max_bytes: int) -> CoverParams:
        return CoverParams(
            semitones=self.semitones,
            vocal_gain_db=self.vocal_gain_db,
            instrumental_gain_db=self.instrumental_gain_db,
            reverb=self.reverb,
            output_format=output_format,
            max_bytes=max_bytes,
        )

    def conversion_params(self) -> ConversionParams:
        return ConversionParams(
            pitch_method=_pitch_method(self.pitch_method),
            index_rate=self.index_rate,
            protect=self.protect,
            seed=COVER_SEED,
        )

    def changed(self) -> dict[str, Any]:
        """The fields that differ from the defaults, for messages."""
        defaults = asdict(CoverStyle())
        return {name: value for name, value in asdict(self).items() if defaults[name] != value}


def _pitch_method(value: str) -> PitchMethod:
    try:
        return PitchMethod(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(method.value for method in PitchMethod)
        raise InvalidConversionParamsError(
            f"pitch_method must be one of {choices}, got {value!r}"
        ) from None


def as_option(message: str, names: Mapping[str, str]) -> str:
    """``"index_rate must be …"`` → ``"--index-rate must be …"`` (or the Discord option)."""
    field, _, rest = message.partition(" ")
    return f"{names[field]} {rest}" if field in names else message


def checked_style(style: CoverStyle, names: Mapping[str, str]) -> CoverStyle:
    """``style`` if every value is in range, else :class:`InvalidCoverStyleError` naming the
    option through ``names`` (:data:`DISCORD_OPTIONS` or :data:`CLI_OPTIONS`)."""
    try:
        style.cover_params(output_format=AudioFormat.OGG_OPUS, max_bytes=DEFAULT_MAX_BYTES)
        style.conversion_params()
    except (InvalidCoverParamsError, InvalidConversionParamsError) as error:
        raise InvalidCoverStyleError(as_option(str(error), names)) from None
    return style


def cover_request(
    *,
    song_name: str,
    voice_name: str,
    method: SingingMethod,
    max_bytes: int,
    semitones: int = 0,
    style: CoverStyle | None = None,
    song_url: str | None = None,
) -> dict[str, Any]:
    """What a job row keeps of the request (JSON), enough to run it again after a restart.

    ``semitones`` is short for ``style=CoverStyle(semitones=...)``."""
    chosen = style or CoverStyle(semitones=semitones)
    request: dict[str, Any] = {
        "song_name": song_name[:100],
        "voice_name": voice_name,
        "method": method.value,
        "max_bytes": max_bytes,
        **asdict(chosen),
    }
    if song_url is not None:
        request["song_url"] = song_url[:500]
    return request


def requested_method(params: dict[str, Any]) -> SingingMethod:
    return SingingMethod(params.get("method", SingingMethod.AUTO))


def requested_style(params: dict[str, Any]) -> CoverStyle:
    """The style a job row asked for (rows written before a field existed get its default)."""
    defaults = CoverStyle()
    return CoverStyle(
        semitones=int(params.get("semitones", defaults.semitones)),
        pitch_method=str(params.get("pitch_method", defaults.pitch_method)),
        index_rate=float(params.get("index_rate", defaults.index_rate)),
        protect=float(params.get("protect", defaults.protect)),
        vocal_gain_db=float(params.get("vocal_gain_db", defaults.vocal_gain_db)),
        instrumental_gain_db=float(
            params.get("instrumental_gain_db", defaults.instrumental_gain_db)
        ),
        reverb=float(params.get("reverb", defaults.reverb)),
    )


def requested_cover(params: dict[str, Any]) -> CoverParams:
    """The engine's parameters for a job's row: Opus, fitted to the channel's upload limit."""
    return requested_style(params).cover_params(
        output_format=AudioFormat.OGG_OPUS,
        max_bytes=int(params.get("max_bytes", DEFAULT_MAX_BYTES)),
    )


def requested_conversion(params: dict[str, Any]) -> ConversionParams:
    """The RVC parameters for a job's row (the runner passes them as ``conversion``)."""
    return requested_style(params).conversion_params()


def song_limits(settings: Settings) -> SongLimits:
    """The limits of a song, uploaded or fetched by link."""
    return SongLimits(
        max_seconds=settings.max_song_seconds,
        max_bytes=int(settings.max_song_upload_mb * 1024 * 1024),
    )


def song_links(settings: Settings) -> SongLinks:
    """Songs by link as the owner configured them (``PARROT_SONG_HOSTS``)."""
    return SongLinks(
        settings.song_hosts,
        song_limits(settings),
        timeout_s=settings.song_download_timeout_seconds,
    )
