"""Where test checkpoints are cached, and building them safely (atomically, once)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path


def cache_root() -> Path:
    return Path(os.environ.get("PARROT_TEST_CACHE", Path.home() / ".cache" / "parrot-tests"))


def versions_key(*packages: str, extra: str = "") -> str:
    text = ";".join(f"{name}={version(name)}" for name in packages) + extra
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_once(name: str, key: str, build: Callable[[Path], None]) -> Path:
    """Return ``<cache>/<name>-<key>``, calling ``build(tmp_dir)`` first if it is missing.

    The folder appears only when complete (built in a temporary sibling, then renamed),
    and a file lock keeps two concurrent test runs from building it twice.
    """
    root = cache_root()
    target = root / f"{name}-{key}"
    if (target / ".complete").exists():
        return target
    with _locked(root / f".{name}.lock"):
        if (target / ".complete").exists():
            return target
        staging = root / f".{name}-{key}.building"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        build(staging)
        (staging / ".complete").write_text("ok\n")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target
