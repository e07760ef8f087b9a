"""Zero-shot singing: pitch analysis, melody restoration, quiet-point cuts, and S3Gen
conversion on the random-weight Chatterbox checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.audio import Audio
from engine.executor import CancelToken, JobCancelledError
from engine.separate import OverlapAdd
from engine.singing import (
    PitchTrack,
    S3GenCheckpointError,
    SingingParams,
    ZeroShotSinger,
    analyse_pitch,
    load_s3gen,
    load_voice_reference,
    measure_pitch_accuracy,
    octaves_towards,
    pitch_accuracy,
    quiet_pieces,
    retune,
)
from engine.tts.errors import ModelNotDownloadedError, VoiceNotEnrolledError
from tests.engine.cover_fixtures import (
    SingingKit,
    singing_kit_fixture,  # noqa: F401
)
from tests.engine.synthetic_music import note_contour, sung_vowel

RATE = 24_000
MELODY = [220.0, 247.0, 262.0, 294.0]


def sung_melody(
    seconds_per_note: float = 0.45, notes: list[float] = MELODY
) -> tuple[Audio, np.ndarray]:
    f0 = note_contour(notes, seconds_per_note, RATE, gap_seconds=0.05)
    return Audio(sung_vowel(f0, RATE), RATE), f0


def truth_track(f0_per_sample: np.ndarray, frames: int) -> PitchTrack:
    hop = RATE // 200  # 5 ms
    return PitchTrack(np.pad(f0_per_sample[::hop], (0, frames))[:frames])


# --- pitch ----------------------------------------------------------------------------------------
def test_pitch_analysis_follows_a_known_contour() -> None:
    audio, f0 = sung_melody()
    analysed = analyse_pitch(audio)
    accuracy = pitch_accuracy(truth_track(f0, len(analysed.f0)), analysed)
    assert accuracy.median_cents < 10
    assert accuracy.voiced_fraction > 0.9


def test_pitch_accuracy_is_measured_in_cents() -> None:
    intended = PitchTrack(np.array([200.0, 200.0, 0.0, 400.0]))
    output = PitchTrack(np.array([400.0, 200.0, 300.0, 0.0]))
    accuracy = pitch_accuracy(intended, output)
    assert accuracy.compared_frames == 2
    assert accuracy.median_cents == pytest.approx(600.0)  # median of 1200 and 0
    assert accuracy.voiced_fraction == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("melody", "voice", "octaves"),
    [(110.0, 220.0, 1), (440.0, 110.0, -2), (200.0, 260.0, 0), (50.0, 1000.0, 2), (None, 200, 0)],
)
def test_melody_moves_by_whole_octaves_towards_the_voice(
    melody: float | None, voice: float, octaves: int
) -> None:
    assert octaves_towards(melody, voice) == octaves


# --- melody restoration ---------------------------------------------------------------------------
@pytest.mark.parametrize("semitones", [0, -12, 5])
def test_retune_puts_the_melody_onto_other_vocals(semitones: int) -> None:
    source, f0 = sung_melody()
    flat = np.where(f0 > 0, 140.0, 0.0)  # the "converted" voice speaks on one pitch
    converted = Audio(sung_vowel(flat, RATE, seed=5), RATE)
    sung, intended = retune(converted, source, analyse_pitch(source), semitones)
    assert len(sung) == len(source)
    accuracy = measure_pitch_accuracy(intended, sung)
    print(f"retune {semitones:+d} st: median error {accuracy.median_cents:.1f} cents")
    assert accuracy.median_cents < 25
    truth = truth_track(f0 * 2 ** (semitones / 12), len(intended.f0))
    assert pitch_accuracy(truth, analyse_pitch(sung)).median_cents < 25


# --- cutting --------------------------------------------------------------------------------------
def test_long_vocals_are_cut_in_the_quiet_and_rejoin_exactly() -> None:
    rng = np.random.default_rng(0)
    loud = rng.standard_normal(RATE * 10).astype(np.float32) * 0.3
    loud[round(RATE * 7.2) : round(RATE * 7.5)] *= 0.001  # a breath pause before the limit
    audio = Audio(loud, RATE)
    pieces = quiet_pieces(audio, max_seconds=8.0, overlap_seconds=0.1)
    assert len(pieces) == 2
    cut = (pieces[0].stop + pieces[1].start) / 2 / RATE
    assert 7.2 <= cut <= 7.5
    joined = OverlapAdd((), len(audio))
    for piece in pieces:
        joined.add(piece, audio.samples[piece.start : piece.stop])
    np.testing.assert_allclose(joined.result(len(pieces)), audio.samples, atol=1e-6)


# --- model files ----------------------------------------------------------------------------------
def test_missing_s3gen_weights_name_the_download(tmp_path: Path) -> None:
    with pytest.raises(ModelNotDownloadedError, match="parrot models download"):
        load_s3gen(tmp_path, "cpu")


def test_s3gen_weights_that_do_not_fit_are_named(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    save_file({"unrelated.weight": torch.zeros(2)}, str(tmp_path / "s3gen.safetensors"))
    with pytest.raises(S3GenCheckpointError, match="weights are missing"):
        load_s3gen(tmp_path, "cpu")


def test_a_voice_without_conditionals_is_not_enrolled(tmp_path: Path) -> None:
    with pytest.raises(VoiceNotEnrolledError, match="enrol it again"):
        load_voice_reference(tmp_path / "conds.pt", "cpu")
    singer = ZeroShotSinger(lambda: None, tmp_path / "conds.pt")
    with pytest.raises(VoiceNotEnrolledError, match="enrol it again"):
        _ = singer.cache_key


# --- zero-shot singing on random weights ----------------------------------------------------------
def test_zero_shot_singing_keeps_time_and_melody(singing_kit: SingingKit) -> None:
    source, _ = sung_melody(0.5)  # about 2 s
    singer = singing_kit.singer("high")
    progress: list[float] = []
    result = singer.sing(source, 0, CancelToken(), progress.append, measure=True)
    assert result.audio.sample_rate == RATE
    assert len(result.audio) == len(source)
    assert np.all(np.isfinite(result.audio.samples))
    assert progress == sorted(progress) and progress[-1] == 1.0
    accuracy = result.accuracy
    assert accuracy is not None
    print(
        f"zero-shot singing (random weights): median pitch error {accuracy.median_cents:.1f} "
        f"cents over {accuracy.compared_frames} frames, {accuracy.voiced_fraction:.0%} voiced"
    )
    assert accuracy.median_cents < 100


def test_singing_key_depends_on_voice_and_settings(singing_kit: SingingKit) -> None:
    low, high = singing_kit.singer("low"), singing_kit.singer("high")
    assert low.cache_key != high.cache_key
    assert high.cache_key != singing_kit.singer("high", SingingParams(decoder_steps=3)).cache_key
    assert high.cache_key == singing_kit.singer("high").cache_key
    assert low.voice_pitch_hz is not None and high.voice_pitch_hz is not None
    assert high.voice_pitch_hz > low.voice_pitch_hz


def test_singing_stops_between_pieces_when_cancelled(singing_kit: SingingKit) -> None:
    source, _ = sung_melody(0.6, [220.0] * 8)
    singer = singing_kit.singer("low", SingingParams(decoder_steps=1, piece_seconds=2.0))
    token = CancelToken()
    reports: list[float] = []

    def cancel_after_first(fraction: float) -> None:
        reports.append(fraction)
        token.cancel()

    with pytest.raises(JobCancelledError):
        singer.convert(source, 0, token, cancel_after_first)
    assert len(reports) == 1
