"""A voice's singing model files, found for covers, and named when one has gone missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.exts.covers.singing_models import (
    SingingModelMissingError,
    present_singing_model_paths,
    singing_model_paths,
)
from bot.store.models import Visibility, Voice, VoiceSource, VoiceStatus
from bot.voices.files import VoiceLibrary
from engine.errors import ParrotError


def voice(**fields: Any) -> Voice:
    values: dict[str, Any] = {
        "id": "v1",
        "name": "Olive",
        "owner_id": 1,
        "guild_id": 2,
        "visibility": Visibility.GUILD,
        "source": VoiceSource.UPLOAD,
        "status": VoiceStatus.READY,
        "status_detail": None,
        "tts_model": None,
        "conditionals": None,
        "rvc_model": None,
        "rvc_index": None,
        "consent_at": None,
        "created_at": "",
        "updated_at": "",
    }
    return Voice(**{**values, **fields})


def test_paths_of_a_voice_with_and_without_a_model(tmp_path: Path) -> None:
    library = VoiceLibrary(None, tmp_path)  # type: ignore[arg-type]  # no rows needed
    assert singing_model_paths(library, voice()) is None
    model = tmp_path / "voices" / "v1" / "singing" / "m.pth"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"x")
    found = voice(rvc_model="voices/v1/singing/m.pth")
    assert present_singing_model_paths(library, found) == (model.resolve(), None)


def test_a_missing_file_is_named_with_the_command_that_fixes_it(tmp_path: Path) -> None:
    library = VoiceLibrary(None, tmp_path)  # type: ignore[arg-type]  # no rows needed
    gone = voice(rvc_model="voices/v1/singing/m.pth")
    with pytest.raises(SingingModelMissingError) as raised:
        present_singing_model_paths(library, gone)
    assert isinstance(raised.value, ParrotError)
    assert isinstance(raised.value, FileNotFoundError)  # the builtin base stays
    assert "singing model file" in str(raised.value)
    assert "`parrot voices singing-model Olive MODEL.pth`" in str(raised.value)
