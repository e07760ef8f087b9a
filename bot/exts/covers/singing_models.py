"""A voice's RVC model: checked when attached, kept in the voice's folder, found for covers.

Same ordering rule as the voice library: new files are complete on disk before the row
points at them, and old files go only after the row stopped pointing at them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.store import Store
from bot.store.audit import AuditAction, Who
from bot.store.models import Voice
from bot.store.voices import new_id
from bot.voices.files import VoiceLibrary
from engine.api import ParrotError, RvcModelInfo, VoiceEngine, atomic_copy

SINGING_FOLDER = "singing"


class SingingModelMissingError(ParrotError, FileNotFoundError):
    """The voice's row points at a singing model file that is gone from its folder."""

    def __init__(self, voice: Voice, path: Path) -> None:
        super().__init__(
            f"voice {voice.name!r}'s singing model file {path} is missing: attach it "
            f"again with `parrot voices singing-model {voice.name} MODEL.pth`"
        )


def singing_model_paths(library: VoiceLibrary, voice: Voice) -> tuple[Path, Path | None] | None:
    """The voice's ``.pth`` and optional ``.index`` as absolute paths, or None."""
    if not voice.rvc_model:
        return None
    index = library.path(voice.rvc_index) if voice.rvc_index else None
    return library.path(voice.rvc_model), index


def present_singing_model_paths(
    library: VoiceLibrary, voice: Voice
) -> tuple[Path, Path | None] | None:
    """Like :func:`singing_model_paths`, raising :class:`SingingModelMissingError` when a
    file the row points at is gone."""
    paths = singing_model_paths(library, voice)
    if paths is not None:
        missing = [path for path in paths if path is not None and not path.is_file()]
        if missing:
            raise SingingModelMissingError(voice, missing[0])
    return paths


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


async def attach_singing_model(
    store: Store,
    library: VoiceLibrary,
    engine: VoiceEngine,
    voice: Voice,
    model_source: Path,
    index_source: Path | None = None,
    *,
    who: Who,
    guild_id: int | None = None,
) -> RvcModelInfo:
    """Validate an RVC export (and index), copy it into the voice's folder and point the
    voice at it, replacing any earlier one. Raises ``RvcCheckpointError``/``RvcIndexError``.

    The row and its audit entry (``who``; ``guild_id`` where it was asked, else the
    voice's home) are written together."""
    info = await engine.describe_singing_model(model_source, index_source)
    folder = library.folder(voice.id) / SINGING_FOLDER
    stem = new_id()
    model = folder / f"{stem}.pth"
    index = folder / f"{stem}.index" if index_source is not None else None
    written: list[Path] = []
    try:
        await asyncio.to_thread(atomic_copy, model_source, model)
        written.append(model)
        if index_source is not None and index is not None:
            await asyncio.to_thread(atomic_copy, index_source, index)
            written.append(index)
        async with store.unit_of_work() as work:
            await work.voices.set_singing_model(
                voice.id, library.relative(model), library.relative(index) if index else None
            )
            await work.audit.record(
                AuditAction.ATTACH_SINGING_MODEL,
                who,
                voice=voice,
                guild_id=guild_id,
                detail={"model": str(info), "index": index is not None},
            )
    except BaseException:
        await asyncio.to_thread(_remove, written)
        raise
    previous = singing_model_paths(library, voice)
    if previous is not None:
        await asyncio.to_thread(_remove, [path for path in previous if path is not None])
    return info


async def detach_singing_model(
    store: Store,
    library: VoiceLibrary,
    voice: Voice,
    *,
    who: Who,
    guild_id: int | None = None,
) -> bool:
    """Forget the voice's RVC model (recording who did it) and delete its files; False when
    it had none."""
    previous = singing_model_paths(library, voice)
    if previous is None:
        return False
    async with store.unit_of_work() as work:
        await work.voices.set_singing_model(voice.id, None)
        await work.audit.record(
            AuditAction.REMOVE_SINGING_MODEL, who, voice=voice, guild_id=guild_id
        )
    await asyncio.to_thread(_remove, [path for path in previous if path is not None])
    return True
