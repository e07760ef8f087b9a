"""Reading RVC exports: what loads, and a specific message for every way a file is wrong."""

from __future__ import annotations

import collections
import copy
import functools
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from engine.convert.checkpoint import describe_checkpoint, read_checkpoint
from engine.convert.errors import RvcCheckpointError
from engine.convert.synthesizer import RvcVersion
from tests.checkpoints.rvc import (
    export_payload,
    random_synthesizer,
    small_values,
    synthesizer_config,
    write_export,
)
from tests.engine.convert_support import one_torch_thread

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)

Payload = dict[str, Any]


@functools.cache
def _built_payload(version: str, rate: int, has_f0: bool) -> Payload:
    config = synthesizer_config(small_values(version, rate), version, has_f0)
    return export_payload(random_synthesizer(config, quick=True), info="200epoch")


def small_payload(version: str = "v2", rate: int = 40_000, has_f0: bool = True) -> Payload:
    """A fresh copy of a narrow, valid export, to break in one way or another."""
    return copy.deepcopy(_built_payload(version, rate, has_f0))


def test_describes_a_valid_export(tmp_path: Path) -> None:
    info = describe_checkpoint(write_export(tmp_path / "v.pth", small_payload()))
    assert (info.version, info.sample_rate, info.has_f0, info.speakers) == (
        RvcVersion.V2,
        40_000,
        True,
        1,
    )
    assert info.info == "200epoch"
    assert str(info) == "RVC v2, 40 kHz, pitch-guided, 1 speaker"


def test_describes_v1_without_pitch(tmp_path: Path) -> None:
    info = describe_checkpoint(write_export(tmp_path / "v.pth", small_payload("v1", 32_000, False)))
    assert str(info) == "RVC v1, 32 kHz, without pitch guidance, 1 speaker"


def test_speaker_count_comes_from_the_speaker_table(tmp_path: Path) -> None:
    payload = small_payload()
    payload["config"][15] = 109  # RVC's exports keep the training config's 109
    checkpoint = read_checkpoint(write_export(tmp_path / "v.pth", payload))
    assert checkpoint.config.speakers == checkpoint.info.speakers == 1


def test_extra_fields_of_forks_are_accepted(tmp_path: Path) -> None:
    """Applio adds metadata (and writes f0 as a bool, the sample rate as a number)."""
    payload = small_payload()
    payload.update(
        f0=True,
        sr=40_000,
        epoch=200,
        step=4000,
        model_hash="ab" * 32,
        creation_date="2025-01-01T00:00:00",
        overtrain_info="None",
        dataset_length=612.5,
        model_name="voice",
        author=None,
        embedder_model="contentvec",
        speakers_id=1,
        vocoder="HiFi-GAN",
    )
    info = describe_checkpoint(write_export(tmp_path / "v.pth", payload))
    assert (info.sample_rate, info.has_f0) == (40_000, True)


def test_missing_version_means_v1(tmp_path: Path) -> None:
    payload = small_payload("v1", 40_000)
    del payload["version"]
    assert describe_checkpoint(write_export(tmp_path / "v.pth", payload)).version is RvcVersion.V1


def test_training_only_weights_are_ignored(tmp_path: Path) -> None:
    payload = small_payload()
    payload["weight"]["enc_q.pre.weight"] = torch.zeros(16, 513, 1, dtype=torch.float16)
    checkpoint = read_checkpoint(write_export(tmp_path / "v.pth", payload))
    assert not any(key.startswith("enc_q") for key in checkpoint.weights)


def test_parametrized_weight_norm_names_load(tmp_path: Path) -> None:
    """Exports made with torch's newer weight_norm name the pair original0/original1."""
    payload = small_payload()
    renamed = {}
    for key, value in payload["weight"].items():
        key = key.replace(".weight_g", ".parametrizations.weight.original0")
        renamed[key.replace(".weight_v", ".parametrizations.weight.original1")] = value
    payload["weight"] = renamed
    assert describe_checkpoint(write_export(tmp_path / "v.pth", payload)).has_f0


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RvcCheckpointError, match="does not exist"):
        read_checkpoint(tmp_path / "nothing.pth")


def _save_raw(content: bytes) -> Callable[[Path], Path]:
    def write(path: Path) -> Path:
        path.write_bytes(content)
        return path

    return write


def _truncated(path: Path) -> Path:
    write_export(path, small_payload())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _zip_of_something_else(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("voice/readme.txt", "not a model")
    return path


def _saved(payload: Any) -> Callable[[Path], Path]:
    def write(path: Path) -> Path:
        torch.save(payload, path)
        return path

    return write


def _mutated(change: Callable[[Payload], None], **kind: Any) -> Callable[[Path], Path]:
    def write(path: Path) -> Path:
        payload = small_payload(**kind)
        change(payload)
        return write_export(path, payload)

    return write


def _drop(key: str) -> Callable[[Payload], None]:
    return lambda payload: payload["weight"].pop(key)


def _set(key: str, value: Any) -> Callable[[Payload], None]:
    return lambda payload: payload.__setitem__(key, value)


def _config(index: int, value: Any) -> Callable[[Payload], None]:
    return lambda payload: payload["config"].__setitem__(index, value)


def _extra_weight(payload: Payload) -> None:
    payload["weight"]["dec.extra_layer.weight"] = torch.zeros(3, dtype=torch.float16)


def _wrong_shape(payload: Payload) -> None:
    payload["weight"]["emb_g.weight"] = payload["weight"]["emb_g.weight"][:, :8].clone()


def _for_48k(payload: Payload) -> None:
    payload["sr"], payload["config"][-1] = "48k", 48_000


BROKEN: dict[str, tuple[Callable[[Path], Path], str]] = {
    "empty": (_save_raw(b""), "the file is empty"),
    "text": (_save_raw(b"hello, I am a voice model"), "it is not a PyTorch file"),
    "truncated": (_truncated, "truncated or corrupted"),
    "foreign zip": (_zip_of_something_else, "a zip archive, but not a PyTorch checkpoint"),
    "unsafe pickle": (
        _saved({"weight": {}, "score": np.float64(1.0)}),
        r"Python objects other than tensors \(numpy.*\), which are unsafe",
    ),
    "a list": (_saved([torch.zeros(2)]), "it holds a list, not RVC's export dict"),
    "bare state dict": (_saved({"emb_g.weight": torch.zeros(1, 4)}), "a bare state dict"),
    "training checkpoint": (
        _saved({"model": {"a": torch.zeros(1)}, "optimizer": {}, "iteration": 3}),
        "a training checkpoint",
    ),
    "other dict": (
        _saved({"net": 1, "epoch": 2}),
        r"no 'weight'/'config' entries \(found: epoch, net\)",
    ),
    "unknown sample rate": (_mutated(_set("sr", "44k")), "unsupported sample rate '44k'"),
    "sample rate disagrees": (
        _mutated(_set("sr", "48k")),
        "'sr' says 48k but its config ends with sample rate 40000",
    ),
    "upsampling does not fit the rate": (
        _mutated(_for_48k),
        r"upsample rates \[10, 10, 2, 2\] make 400 samples per 10 ms frame, .* 48000 Hz",
    ),
    "short config": (_mutated(lambda p: p["config"].pop()), "a list of 18 values, got 17"),
    "bad resblock": (_mutated(_config(9, "3")), "resblock type must be '1' or '2'"),
    "unknown version": (_mutated(_set("version", "v3")), "unknown version 'v3'"),
    "bad f0 flag": (_mutated(_set("f0", 2)), "'f0' must be 1 or 0, got 2"),
    "v2 weights labelled v1": (
        _mutated(_set("version", "v1")),
        "it says v1 but its input layer takes 768-d features \\(v2\\)",
    ),
    "no pitch table but f0=1": (
        _mutated(_set("f0", 1), has_f0=False),
        r"says it is pitch-guided \(f0=1\) but its weights have no pitch embedding",
    ),
    "no speaker table": (_mutated(_drop("emb_g.weight")), r"no speaker table \(emb_g.weight\)"),
    "missing weight": (
        _mutated(_drop("dec.conv_post.weight")),
        r"missing 1 weights \(dec.conv_post.weight\)",
    ),
    "unexpected weight": (
        _mutated(_extra_weight),
        r"1 unexpected weights \(dec.extra_layer.weight\)",
    ),
    "wrong shape": (_mutated(_wrong_shape), r"emb_g.weight is \[1, 8\], expected \[1, 16\]"),
    "other vocoder": (
        _mutated(_set("vocoder", "RefineGAN")),
        "uses the RefineGAN vocoder; only RVC's HiFi-GAN is supported",
    ),
    "other content encoder": (
        _mutated(_set("embedder_model", "japanese-hubert-base")),
        "trained on japanese-hubert-base content features; Parrot reads ContentVec",
    ),
    "non-tensor weight": (
        _mutated(lambda p: p["weight"].__setitem__("note", "hi")),
        r"'weight' holds non-tensor entries: note",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_files_are_rejected_with_their_reason(case: str, tmp_path: Path) -> None:
    write, message = BROKEN[case]
    path = write(tmp_path / "uploaded.pth")
    with pytest.raises(RvcCheckpointError, match=message) as caught:
        read_checkpoint(path)
    assert str(caught.value).startswith("uploaded.pth is not a usable RVC voice model: ")


def test_checkpoints_are_plain_ordered_dicts(tmp_path: Path) -> None:
    """RVC saves an OrderedDict; weights_only loading accepts it."""
    payload = small_payload()
    assert isinstance(payload, collections.OrderedDict)
    loaded = torch.load(write_export(tmp_path / "v.pth", payload), weights_only=True)
    assert list(loaded) == ["weight", "config", "info", "sr", "f0", "version"]
