"""engine.api is the engine's one public surface, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import engine.api
from engine.api import COVER_STAGES, STAGES, Capability, TTSModel, tts_model, tts_models

HEAVY = ("torch", "chatterbox", "demucs", "faiss", "perth")


def test_importing_the_api_loads_no_model_library() -> None:
    code = f"import sys, engine.api; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == ""


def test_every_exported_name_exists() -> None:
    missing = [name for name in engine.api.__all__ if not hasattr(engine.api, name)]
    assert missing == []


def test_every_tts_model_is_registered_with_its_capabilities() -> None:
    assert {entry.model for entry in tts_models()} == set(TTSModel)
    for model in TTSModel:
        entry = tts_model(model)
        assert entry.offers(Capability.SPEECH) and entry.offers(Capability.VOICE_CONVERSION)
        assert "en" in entry.languages
    assert len(tts_model(TTSModel.MULTILINGUAL).languages) == 23


def test_the_cover_stages_carry_labels_and_a_whole_progress_bar() -> None:
    assert STAGES == ("read", "separate", "convert", "shift", "effects", "mix", "encode")
    assert all(stage.label for stage in COVER_STAGES)
    assert abs(sum(stage.weight for stage in COVER_STAGES) - 1.0) < 1e-9
    transforms = [stage.name for stage in COVER_STAGES if stage.transform is not None]
    assert transforms == ["convert", "shift", "effects"]
