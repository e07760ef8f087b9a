"""Preset voices: audio the bot owner drops into ``references/``, offered in every server."""

from __future__ import annotations

from bot.presets.importer import (
    ImportReport,
    PresetAction,
    PresetImporter,
    PresetOutcome,
)
from bot.runtime import sample_limits
from bot.settings import Settings
from bot.store import Store
from bot.voices.files import VoiceLibrary
from engine.api import VoiceEngine


def preset_importer(store: Store, engine: VoiceEngine, settings: Settings) -> PresetImporter:
    """The importer for the configured references folder, with the upload limits."""
    return PresetImporter(
        store,
        VoiceLibrary(store, settings.data_dir),
        engine,
        sample_limits(settings),
        settings.references_dir,
    )


__all__ = ["ImportReport", "PresetAction", "PresetImporter", "PresetOutcome", "preset_importer"]
