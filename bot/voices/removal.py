"""Deleting a voice with its audit entry: the rows and the entry land together, then the
files go (rows before files, as :mod:`bot.voices.files` requires)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.store import Store
from bot.store.audit import AuditAction, Who
from bot.store.models import Voice
from bot.voices.files import VoiceLibrary

log = logging.getLogger(__name__)


async def delete_voice(
    store: Store,
    library: VoiceLibrary,
    voice: Voice,
    who: Who,
    *,
    guild_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> bool:
    """Delete the voice's rows (samples, hides by cascade) and record who did it, in one
    transaction, then every file of it. False when the voice was already gone.

    ``guild_id``: where it was asked (the voice's home if None)."""
    async with store.unit_of_work() as work:
        deleted = await work.voices.delete(voice.id)
        if deleted:
            await work.audit.record(
                AuditAction.DELETE, who, voice=voice, guild_id=guild_id, detail=detail
            )
    await library.remove_folder(voice.id)
    if deleted:
        log.info("deleted voice %s (%s) for %s", voice.id, voice.name, who)
    return deleted
