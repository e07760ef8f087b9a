"""What the ``references/`` folder holds: one voice per audio file or per folder of samples.

Pure file work (no database, no engine), run in a thread: listing and hashing may read
hundreds of megabytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".ogg", ".opus", ".flac", ".m4a", ".webm"})
"""The formats the README promises; other files are still tried, so none is skipped unseen."""
DOCUMENT_SUFFIXES = frozenset({".md", ".txt"})


@dataclass(frozen=True, slots=True)
class ReferenceSource:
    """One preset voice as found on disk."""

    name: str
    """The voice name: the file's stem, or the folder's name."""
    source: str
    """Where it is, relative to the references folder (shown to the owner)."""
    files: tuple[Path, ...]
    sha256: str
    """Digest of every input file's name and content: unchanged digest, no re-enrolment."""


@dataclass(frozen=True, slots=True)
class ScanProblem:
    """Something in the folder that cannot become a voice, and why."""

    source: str
    reason: str
    name: str | None = None
    """The voice name it would have had, when it has one."""


@dataclass(slots=True)
class ReferenceScan:
    folder: Path
    exists: bool
    sources: list[ReferenceSource] = field(default_factory=list)
    problems: list[ScanProblem] = field(default_factory=list)


def is_ignored(path: Path) -> bool:
    """Hidden files and the folder's own documentation are not voices."""
    name = path.name
    return (
        name.startswith(".")
        or name.lower().startswith("readme")
        or path.suffix.lower() in DOCUMENT_SUFFIXES
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def inputs_sha256(files: tuple[Path, ...], root: Path) -> str:
    """One digest over the files' names (relative to ``root``) and contents, in order."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(file_sha256(path).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _folder_source(folder: Path, root: Path, scan: ReferenceScan) -> None:
    files: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if is_ignored(entry):
            continue
        if entry.is_dir():
            scan.problems.append(
                ScanProblem(
                    entry.relative_to(root).as_posix(),
                    "folders inside a voice's folder are not read; move the files up",
                )
            )
        elif entry.is_file():
            files.append(entry)
    source = folder.relative_to(root).as_posix() + "/"
    if not files:
        scan.problems.append(ScanProblem(source, "the folder holds no audio files", folder.name))
        return
    scan.sources.append(
        ReferenceSource(folder.name, source, tuple(files), inputs_sha256(tuple(files), root))
    )


def scan_references(root: Path) -> ReferenceScan:
    """Every voice the folder describes, plus what cannot be one (duplicates, empty folders)."""
    scan = ReferenceScan(root, root.is_dir())
    if not scan.exists:
        return scan
    for entry in sorted(root.iterdir()):
        if is_ignored(entry):
            continue
        if entry.is_dir():
            _folder_source(entry, root, scan)
        elif entry.is_file():
            files = (entry,)
            scan.sources.append(
                ReferenceSource(entry.stem, entry.name, files, inputs_sha256(files, root))
            )
    by_name: dict[str, list[ReferenceSource]] = {}
    for source in scan.sources:
        by_name.setdefault(source.name.strip().lower(), []).append(source)
    for clashing in (group for group in by_name.values() if len(group) > 1):
        shown = " and ".join(source.source for source in clashing)
        for source in clashing:
            scan.sources.remove(source)
            scan.problems.append(
                ScanProblem(
                    source.source, f"{shown} would both be called {source.name!r}", source.name
                )
            )
    return scan
