"""A cover's style options: one validation for ``/cover`` and ``parrot cover``, kept in the
job row and read back by the runner (old rows get the defaults)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.exts.covers.messages import progress_text
from bot.exts.covers.request import (
    CLI_OPTIONS,
    DISCORD_OPTIONS,
    CoverStyle,
    InvalidCoverStyleError,
    checked_style,
    cover_request,
    requested_conversion,
    requested_cover,
    requested_style,
)
from bot.exts.covers.runner import CoverUpdate
from bot.store.jobs import Job
from bot.store.models import JobState
from engine.api import AudioFormat, PitchMethod, SingingMethod


@pytest.mark.parametrize(
    ("style", "discord", "cli"),
    [
        (CoverStyle(index_rate=1.5), "`index_rate` must be in [0, 1.0]", "--index-rate must be"),
        (CoverStyle(reverb=-0.1), "`reverb` must be between 0 and 1", "--reverb must be"),
        (CoverStyle(vocal_gain_db=13), "`vocal_gain` must be between -24 and 12", "--vocal-gain"),
        (CoverStyle(instrumental_gain_db=float("nan")), "`instrumental_gain` must", "--instr"),
        (CoverStyle(semitones=13), "`pitch` must be a whole number", "--pitch must be"),
        (CoverStyle(pitch_method="crepe"), "`pitch_method` must be one of rmvpe, fcpe, pm", "--p"),
    ],
)
def test_out_of_range_options_are_named_as_typed(style: CoverStyle, discord: str, cli: str) -> None:
    with pytest.raises(InvalidCoverStyleError) as refused:
        checked_style(style, DISCORD_OPTIONS)
    assert refused.value.for_member().startswith(discord)
    with pytest.raises(InvalidCoverStyleError, match=f"^{cli}"):
        checked_style(style, CLI_OPTIONS)


def test_a_job_row_keeps_the_style_and_old_rows_get_the_defaults() -> None:
    style = checked_style(
        CoverStyle(semitones=-2, pitch_method="FCPE", index_rate=0.5, reverb=0.0, vocal_gain_db=3),
        DISCORD_OPTIONS,
    )
    params = cover_request(
        song_name="A song",
        voice_name="Olive",
        method=SingingMethod.RVC,
        max_bytes=8 * 2**20,
        style=style,
        song_url="https://youtu.be/x",
    )
    assert requested_style(params) == style and params["song_url"] == "https://youtu.be/x"
    cover = requested_cover(params)
    assert (cover.semitones, cover.reverb, cover.vocal_gain_db) == (-2, 0.0, 3)
    assert cover.output_format is AudioFormat.OGG_OPUS and cover.max_bytes == 8 * 2**20
    conversion = requested_conversion(params)
    assert conversion.pitch_method is PitchMethod.FCPE and conversion.index_rate == 0.5

    old = {"song_name": "x", "voice_name": "Olive", "semitones": 3, "method": "auto"}
    assert requested_style(old) == CoverStyle(semitones=3)
    assert requested_conversion(old).pitch_method is PitchMethod.RMVPE


def test_the_message_shows_what_the_member_changed() -> None:
    params = cover_request(
        song_name="Song `with` *marks*",
        voice_name="Olive",
        method=SingingMethod.AUTO,
        max_bytes=8 * 2**20,
        style=CoverStyle(semitones=2, vocal_gain_db=-3, reverb=0.4, pitch_method="pm"),
    )
    text = progress_text(_job(params), CoverUpdate(None, 0.0, 1))
    assert text.startswith(
        "Cover of `Song 'with' \\*marks\\*` in **Olive**, key +2 "
        "(pitch by Praat, vocals -3 dB, reverb 0.40)"
    )


def _job(params: dict[str, Any]) -> Job:
    return Job(
        id="0" * 16,
        kind="cover",
        state=JobState.QUEUED,
        stage=None,
        progress=0.0,
        user_id=1,
        guild_id=2,
        channel_id=3,
        message_id=None,
        voice_id="v",
        params=params,
        input_path=None,
        output_path=None,
        error=None,
        created_at="",
        updated_at="",
    )
