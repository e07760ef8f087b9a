"""What each engine error tells a member in Discord, and what the CLI prints."""

from __future__ import annotations

import pytest

from engine.api import (
    AudioRejectedError,
    ConversionWeightsMissingError,
    DemucsNotDownloadedError,
    DeviceUnavailableError,
    EngineBusyError,
    InvalidConversionParamsError,
    InvalidCoverParamsError,
    InvalidSpeechParamsError,
    JobCancelledError,
    ModelDownloadError,
    ModelNotDownloadedError,
    NoSingingModelError,
    OutputTooLargeError,
    ParrotError,
    RejectReason,
    RvcCheckpointError,
    RvcIndexError,
    SongTooLongError,
    VoiceNotEnrolledError,
)

DOWNLOAD = "the model is not downloaded: run `parrot models download turbo` on a machine"


@pytest.mark.parametrize(
    ("error", "member"),
    [
        (
            AudioRejectedError(RejectReason.TOO_SHORT, "the clip is only 1 s long"),
            "That audio can't be used: the clip is only 1 s long.",
        ),
        (
            EngineBusyError("the voice engine is busy (32 jobs waiting)"),
            "The voice engine is busy right now; please try again in a minute.",
        ),
        (
            ModelNotDownloadedError(DOWNLOAD),
            "The model this needs is not downloaded on this bot yet; ask the bot owner to run "
            "`parrot models download turbo`.",
        ),
        (
            ModelNotDownloadedError("no weights here"),
            "The model this needs is not downloaded on this bot yet; ask the bot owner to run "
            "`parrot models download`.",
        ),
        (
            DemucsNotDownloadedError("run `parrot models download demucs` somewhere"),
            "The model this needs is not downloaded on this bot yet; ask the bot owner to run "
            "`parrot models download demucs`.",
        ),
        (
            ConversionWeightsMissingError("run `parrot models download rvc` somewhere"),
            "The model this needs is not downloaded on this bot yet; ask the bot owner to run "
            "`parrot models download rvc`.",
        ),
        (
            VoiceNotEnrolledError("no conditionals"),
            "That voice is not ready for the current model; enrol it again.",
        ),
        (JobCancelledError(), "That was cancelled."),
        (
            SongTooLongError("The song is 9:00 long; covers are limited to 8:00."),
            "The song is 9:00 long; covers are limited to 8:00.",
        ),
        (
            OutputTooLargeError("The cover is 9:00 long and does not fit in 1.0 MB"),
            "The cover would not fit: The cover is 9:00 long and does not fit in 1.0 MB.",
        ),
        (
            InvalidCoverParamsError("reverb must be between 0 and 1, got 2"),
            "Reverb must be between 0 and 1, got 2.",
        ),
        (
            InvalidConversionParamsError("protect must be in [0, 0.5], got 0.9"),
            "Protect must be in [0, 0.5], got 0.9.",
        ),
        (
            NoSingingModelError("this voice has no singing model"),
            "This voice has no singing model.",
        ),
        (
            RvcCheckpointError("voice.pth is not a usable RVC voice model: the file is empty"),
            "That singing model can't be used: voice.pth is not a usable RVC voice model: "
            "the file is empty.",
        ),
        (
            RvcIndexError("voice.index is not a faiss index"),
            "That index can't be used: voice.index is not a faiss index.",
        ),
        (
            InvalidSpeechParamsError("temperature must be in (0.0, 2.0], got 3.0"),
            "Temperature must be in (0.0, 2.0], got 3.0.",
        ),
        (
            DeviceUnavailableError("device 'cuda' was requested but torch sees no CUDA GPU"),
            "Device 'cuda' was requested but torch sees no CUDA GPU.",
        ),
    ],
)
def test_members_read_what_the_bot_said_before(error: ParrotError, member: str) -> None:
    assert isinstance(error, ParrotError)
    assert error.for_member() == member


def test_the_cli_line_is_the_message_itself() -> None:
    error = ModelNotDownloadedError(DOWNLOAD)
    assert error.for_operator() == str(error) == DOWNLOAD
    assert error.exit_code == 1
    assert ModelDownloadError("could not download x").for_operator() == "could not download x"
    assert JobCancelledError().for_operator() == "cancelled"


def test_builtin_bases_are_kept() -> None:
    assert issubclass(AudioRejectedError, ValueError)
    assert issubclass(ModelNotDownloadedError, FileNotFoundError)
    assert issubclass(VoiceNotEnrolledError, FileNotFoundError)
    assert issubclass(EngineBusyError, RuntimeError)
    assert issubclass(DeviceUnavailableError, RuntimeError)
    for error in (SongTooLongError, OutputTooLargeError, InvalidCoverParamsError):
        assert issubclass(error, ValueError)
    for error in (InvalidConversionParamsError, NoSingingModelError, RvcCheckpointError):
        assert issubclass(error, ValueError)
    assert issubclass(RvcIndexError, ValueError)
    assert issubclass(InvalidSpeechParamsError, ValueError)
