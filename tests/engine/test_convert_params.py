"""Conversion parameters: defaults, ranges and the messages people see."""

from __future__ import annotations

from typing import Any

import pytest

from engine.convert.params import ConversionParams, InvalidConversionParamsError, PitchMethod


def test_defaults_are_rvcs() -> None:
    params = ConversionParams()
    assert params.pitch_shift == 0
    assert params.pitch_method is PitchMethod.RMVPE
    assert (params.index_rate, params.protect, params.rms_mix_rate) == (0.75, 0.33, 0.25)
    assert params.protects


def test_pitch_method_accepts_its_name() -> None:
    assert ConversionParams(pitch_method="fcpe").pitch_method is PitchMethod.FCPE  # type: ignore[arg-type]


def test_protect_at_one_half_turns_protection_off() -> None:
    assert not ConversionParams(protect=0.5).protects


def test_limits_are_inclusive() -> None:
    ConversionParams(pitch_shift=-24, index_rate=0.0, protect=0.0, rms_mix_rate=0.0, seed=0)
    ConversionParams(pitch_shift=24, index_rate=1.0, protect=0.5, rms_mix_rate=1.0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pitch_shift": 25}, r"pitch_shift must be in \[-24, 24\] semitones, got 25"),
        ({"pitch_shift": -30}, "pitch_shift must be in"),
        ({"pitch_shift": 1.5}, "whole number of semitones"),
        ({"pitch_shift": True}, "whole number of semitones"),
        ({"pitch_method": "crepe"}, "pitch_method must be one of rmvpe, fcpe, pm"),
        ({"index_rate": 1.2}, r"index_rate must be in \[0, 1.0\], got 1.2"),
        ({"index_rate": float("nan")}, "index_rate must be a finite number"),
        ({"protect": 0.6}, r"protect must be in \[0, 0.5\]"),
        ({"protect": -0.1}, "protect must be in"),
        ({"rms_mix_rate": 2}, "rms_mix_rate must be in"),
        ({"speaker_id": -1}, "speaker_id must be >= 0"),
        ({"seed": -5}, "seed must be a non-negative 63-bit integer"),
        ({"seed": 2**63}, "seed must be"),
    ],
)
def test_out_of_range_values_are_named(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidConversionParamsError, match=message):
        ConversionParams(**overrides)
