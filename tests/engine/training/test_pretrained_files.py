"""Finding, listing and downloading the RVC v2 pretrained weights that training starts from.

``parrot models list`` showing them is tested with the other models in tests/test_cli_cover.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.catalogue import ModelGroup, WeightsState, training_status
from engine.config import EngineConfig
from engine.downloads import ModelDownloadError, plan_downloads
from engine.training.errors import PretrainedWeightsMissingError
from engine.training.pretrained_files import PRETRAINED, pretrained_paths

NAMES = ("f0G40k.pth", "f0D40k.pth")


@pytest.fixture(autouse=True)
def empty_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Whatever this machine's real hub cache holds stays out of these tests."""
    from huggingface_hub import constants

    cache = tmp_path / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return cache


def put_weights(folder: Path, *names: str) -> Path:
    (folder / "pretrained_v2").mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / "pretrained_v2" / name).write_bytes(b"weights")
    return folder


def test_the_models_folder_holds_them_in_the_hubs_layout(tmp_path: Path) -> None:
    put_weights(tmp_path / "rvc-pretrained", *NAMES)
    generator, discriminator = pretrained_paths(tmp_path)
    assert generator == tmp_path / "rvc-pretrained" / "pretrained_v2" / "f0G40k.pth"
    assert discriminator == generator.with_name("f0D40k.pth")


def test_a_missing_file_is_named_with_the_command_at_once(tmp_path: Path) -> None:
    put_weights(tmp_path / "rvc-pretrained", "f0G40k.pth")
    started = time.perf_counter()
    with pytest.raises(PretrainedWeightsMissingError) as caught:
        pretrained_paths(tmp_path)
    assert time.perf_counter() - started < 1.0
    message = str(caught.value)
    assert "f0D40k.pth in " + str(tmp_path / "rvc-pretrained" / "pretrained_v2") in message
    assert "f0G40k.pth" not in message
    assert "parrot models download rvc-pretrained" in message
    assert isinstance(caught.value, FileNotFoundError)
    with pytest.raises(PretrainedWeightsMissingError, match="PARROT_MODELS_DIR is not set"):
        pretrained_paths(None)


def test_the_hub_cache_serves_when_the_models_folder_lacks_them(
    tmp_path: Path, empty_hub_cache: Path
) -> None:
    repo = empty_hub_cache / "models--lj1995--VoiceConversionWebUI"
    commit = "0123456789abcdef0123456789abcdef01234567"
    put_weights(repo / "snapshots" / commit, *NAMES)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    generator, _ = pretrained_paths(tmp_path)
    assert generator.is_file() and commit in str(generator)
    assert generator == pretrained_paths(None)[0]


def test_the_catalogue_lists_them_for_training(tmp_path: Path) -> None:
    config = EngineConfig(data_dir=tmp_path / "data", models_dir=tmp_path)
    missing = training_status(config)
    assert missing.group is ModelGroup.TRAINING and missing.name == "rvc-pretrained"
    assert missing.state is WeightsState.MISSING and missing.in_use
    assert missing.repository == "lj1995/VoiceConversionWebUI"
    assert missing.download_command == "parrot models download rvc-pretrained"
    put_weights(tmp_path / "rvc-pretrained", *NAMES)
    assert training_status(config).location == str(tmp_path / "rvc-pretrained")


def test_the_download_fetches_both_files_or_says_what_to_copy_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = EngineConfig(data_dir=tmp_path / "data", models_dir=tmp_path / "models")
    with pytest.raises(ModelDownloadError) as caught:
        plan_downloads(config, "rvc-pretrained")
    message = str(caught.value)
    assert "HF_HUB_OFFLINE" in message
    assert "pretrained_v2/f0G40k.pth and pretrained_v2/f0D40k.pth" in message
    assert f"into {tmp_path / 'models' / 'rvc-pretrained'}" in message
    monkeypatch.delenv("HF_HUB_OFFLINE")
    (planned,) = plan_downloads(config, "rvc-pretrained")  # planned only: nothing is fetched
    assert "lj1995/VoiceConversionWebUI" in planned.announcement
    assert PRETRAINED.download_patterns == ("pretrained_v2/f0G40k.pth", "pretrained_v2/f0D40k.pth")
    with pytest.raises(ModelDownloadError, match="rvc-pretrained"):
        plan_downloads(config, "nonsense")
