"""Extensions are found in ``bot.exts``: modules and packages that define ``setup``."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.exts
from bot.client import discover_extensions

SETUP = "async def setup(bot):\n    pass\n"


@pytest.fixture
def features(tmp_path: Path) -> Iterator[types.ModuleType]:
    root = tmp_path / "features_under_test"
    (root / "zebra").mkdir(parents=True)
    (root / "helpers").mkdir()
    (root / "__init__.py").write_text("")
    (root / "alpha.py").write_text(SETUP)
    (root / "notes.py").write_text("NOT_AN_EXTENSION = True\n")
    (root / "_private.py").write_text(SETUP)
    (root / "zebra" / "__init__.py").write_text(SETUP)
    (root / "zebra" / "cog.py").write_text(SETUP)  # inside a package: not walked
    (root / "helpers" / "__init__.py").write_text("")
    (root / "helpers" / "inner.py").write_text(SETUP)
    sys.path.insert(0, str(tmp_path))
    try:
        yield __import__("features_under_test")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.startswith("features_under_test")]:
            del sys.modules[name]


def test_modules_and_packages_with_setup_in_name_order(features: types.ModuleType) -> None:
    assert discover_extensions(features) == (
        "features_under_test.alpha",
        "features_under_test.zebra",
    )


def test_every_feature_of_the_bot_is_found_once() -> None:
    found = discover_extensions(bot.exts)
    assert found == tuple(sorted(found))
    assert {"bot.exts.covers", "bot.exts.privacy", "bot.exts.status"} <= set(found)
    assert not any(name.startswith("bot.exts.covers.") for name in found)
