"""What a voice archive is made of, shared by its voice part (:mod:`.archive`) and its
training part (:mod:`.archive_training`): the format's constants, its error, how consent is
read back, and copying one member out of the zip to a path Parrot chose."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.store.models import Consent, ConsentPath
from engine.api import ParrotError, atomic_path

EXPORT_FORMAT = "parrot-voice"
EXPORT_VERSION = 2
"""2 added the training part (training copies, recordings, the trained-model record)."""
READABLE_VERSIONS = (1, 2)
MANIFEST_NAME = "parrot-voice.json"
MAX_IMPORT_MEMBER_BYTES = 1024**3
MAX_IMPORT_TOTAL_BYTES = 2 * 1024**3

Progress = Callable[[int, int], None]
"""Called with (done, total) as long work advances."""


class VoiceArchiveError(ParrotError, ValueError):
    """An import archive that is not a Parrot voice export, or is damaged."""


def consent_of(entry: dict[str, Any], fallback: Consent | None) -> Consent | None:
    """The consent an archive entry carries; ``fallback`` when it has no time."""
    at, via = entry.get("consent_at"), entry.get("consent_via")
    if not isinstance(at, str) or not at:
        return fallback
    known = {path.value for path in ConsentPath}
    # an older archive has no path (or one this Parrot does not know): it came with the archive
    return Consent(at, ConsentPath(via) if via in known else ConsentPath.IMPORT)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def extract(archive: zipfile.ZipFile, member: str, target: Path) -> None:
    """Copy one member to ``target`` (a path we chose, never the member's own name)."""
    limit = archive.getinfo(member).file_size
    with archive.open(member) as source, atomic_path(target) as temp, temp.open("wb") as out:
        copied = 0
        for block in iter(lambda: source.read(1024 * 1024), b""):
            copied += len(block)
            if copied > limit:
                raise VoiceArchiveError(f"{member} is larger than its header says")
            out.write(block)
