"""assess() and check_voice_sample() on real generated audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.audio import (
    Audio,
    AudioRejectedError,
    RejectReason,
    assess,
    check_voice_sample,
    decode,
    prepare_voice_sample,
    remove_dc,
    trim_silence,
)
from tests.engine.audio_fixtures import (  # noqa: F401
    LIMIT_BYTES,
    RATE,
    AudioFiles,
    audio_files_fixture,
    speech_audio_fixture,
)


def _load(path: Path) -> Audio:
    return trim_silence(remove_dc(decode(path, max_bytes=LIMIT_BYTES, max_seconds=60)))


def _reason(audio: Audio, *, min_seconds: float = 3.0, max_seconds: float = 30.0) -> RejectReason:
    with pytest.raises(AudioRejectedError) as caught:
        check_voice_sample(audio, min_seconds=min_seconds, max_seconds=max_seconds)
    return caught.value.reason


def test_speech_passes(speech_audio: Audio) -> None:
    report = check_voice_sample(trim_silence(speech_audio), min_seconds=3, max_seconds=30)
    assert report.verdict in {"good", "fair"}
    assert 3.5 < report.speech_s <= report.duration_s
    assert report.clipped_fraction == 0.0
    assert report.snr_db > 30
    assert any("longer sample" in note for note in report.notes)


def test_speech_with_moderate_background_noise_passes(speech_audio: Audio) -> None:
    rng = np.random.default_rng(7)
    rms = float(np.sqrt(np.mean(speech_audio.samples**2)))
    noisy = speech_audio.samples + rms * 0.18 * rng.standard_normal(len(speech_audio))  # 15 dB
    report = check_voice_sample(Audio(noisy, RATE), min_seconds=3, max_seconds=30)
    assert report.verdict == "fair"
    assert any("quieter room" in note for note in report.notes)


@pytest.mark.parametrize(
    ("attribute", "reason"),
    [
        ("silence", RejectReason.SILENT),
        ("short", RejectReason.TOO_SHORT),
        ("clipped", RejectReason.CLIPPED),
        ("noise", RejectReason.NOISY),
        ("tone", RejectReason.NOT_SPEECH),
    ],
)
def test_rejections_on_generated_files(
    audio_files: AudioFiles, attribute: str, reason: RejectReason
) -> None:
    assert _reason(_load(getattr(audio_files, attribute))) is reason


def test_messages_are_for_people(audio_files: AudioFiles) -> None:
    with pytest.raises(AudioRejectedError) as caught:
        check_voice_sample(_load(audio_files.short), min_seconds=3, max_seconds=30)
    assert str(caught.value).startswith("The clip is 0.")
    assert str(caught.value).endswith("s of speech; at least 3 s is needed.")


def test_very_quiet_speech_is_silent(speech_audio: Audio) -> None:
    quiet = Audio(speech_audio.samples * 10 ** (-60 / 20), RATE)
    assert _reason(quiet) is RejectReason.SILENT


def test_too_long(speech_audio: Audio) -> None:
    assert _reason(speech_audio, max_seconds=2.0) is RejectReason.TOO_LONG


def test_a_long_flat_top_is_clipping(speech_audio: Audio) -> None:
    samples = speech_audio.samples.copy()
    middle = len(samples) // 2
    samples[middle : middle + 100] = 1.0  # 4 ms pinned at full scale, 0.07 % of the clip
    assert assess(Audio(samples, RATE)).clipped_fraction < 0.01
    assert _reason(Audio(samples, RATE)) is RejectReason.CLIPPED


def test_assess_is_pure_and_handles_empty_audio() -> None:
    report = assess(Audio(np.zeros(0, dtype=np.float32), RATE))
    assert report.duration_s == 0.0 and report.verdict == "poor"


def test_prepare_voice_sample_on_a_voice_message(audio_files: AudioFiles) -> None:
    audio, report = prepare_voice_sample(
        audio_files.containers["speech_opus.ogg"],
        max_bytes=LIMIT_BYTES,
        min_seconds=3,
        max_seconds=30,
    )
    assert audio.sample_rate == 24000
    assert report.verdict != "poor"
    assert audio.duration < audio_files.speech_seconds  # trimmed
    assert float(np.max(np.abs(audio.samples))) <= 10 ** (-1.0 / 20) + 1e-6


@pytest.mark.parametrize(
    ("attribute", "reason"),
    [
        ("silence", RejectReason.SILENT),
        ("short", RejectReason.TOO_SHORT),
        ("clipped", RejectReason.CLIPPED),
        ("noise", RejectReason.NOISY),
        ("garbage", RejectReason.UNREADABLE),
        ("long", RejectReason.TOO_LONG),
    ],
)
def test_prepare_voice_sample_rejections(
    audio_files: AudioFiles, attribute: str, reason: RejectReason
) -> None:
    with pytest.raises(AudioRejectedError) as caught:
        prepare_voice_sample(
            getattr(audio_files, attribute), max_bytes=LIMIT_BYTES, min_seconds=3, max_seconds=30
        )
    assert caught.value.reason is reason


def test_clean_speech_gets_no_noise_advice(speech_audio: Audio) -> None:
    report = check_voice_sample(speech_audio, min_seconds=1, max_seconds=30)
    assert not any("quieter room" in note for note in report.notes)
