"""The Ray tests run in their own pytest process (``PARROT_TEST_RAY=1``, see scripts/test.sh):
a Ray driver, its cluster and a replica holding the models do not share a process with the
rest of the suite. Without the variable, or without the ``ray`` extra, they are skipped."""

import importlib.util
import os
from collections.abc import Iterator

import pytest

from engine.remote import messages
from tests.bot.conftest import people  # noqa: F401
from tests.bot.training_support import training_models_dir_fixture  # noqa: F401
from tests.engine.cover_fixtures import song_file_fixture  # noqa: F401
from tests.remote.hooks import TEST_PIECE_BYTES

collect_ignore_glob: list[str] = []
if os.environ.get("PARROT_TEST_RAY") != "1" or importlib.util.find_spec("ray") is None:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(autouse=True, scope="session")
def _small_pieces() -> Iterator[None]:
    """What the bot sends the cluster travels in test-sized pieces, as the replicas' do."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(messages, "PIECE_BYTES", TEST_PIECE_BYTES)
        yield
