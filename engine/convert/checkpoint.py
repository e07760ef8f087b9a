"""Reading and validating RVC voice-model exports (``.pth``).

An export, as RVC's training writes it, is a pickled dict: ``weight`` (the synthesizer's
fp16 state dict without the training-only ``enc_q``), ``config`` (18 positional
hyper-parameters, the last being the sample rate), ``sr`` ('32k', '40k' or '48k'), ``f0``
(1 = pitch-guided), ``version`` ('v1' when absent, or 'v2') and ``info``. It is loaded with
``weights_only=True``: a file that needs any other Python object is refused.

Every way a file can be wrong gets its own message, because people upload these files
from the internet and need to know whether they picked the wrong file or a broken one.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.convert.errors import RvcCheckpointError
from engine.convert.info import RvcModelInfo, RvcVersion
from engine.convert.synthesizer import (
    CONFIG_LENGTH,
    ConfigError,
    Synthesizer,
    SynthesizerConfig,
    fold_weight_norm,
)

SAMPLE_RATES = {"32k": 32_000, "40k": 40_000, "48k": 48_000}
TRAINING_ONLY_PREFIX = "enc_q."
SUPPORTED_VOCODERS = ("hifi-gan", "hifigan")
SUPPORTED_EMBEDDERS = ("contentvec", "hubert", "hubert_base", "hubert-base")
"""Forks record the content encoder a model was trained on; Parrot runs ContentVec."""
_LISTED_KEYS = 5


@dataclass(frozen=True, eq=False, slots=True)
class RvcCheckpoint:
    """A validated export: its description, network config and float32 weights (folded)."""

    path: Path
    info: RvcModelInfo
    config: SynthesizerConfig
    weights: dict[str, torch.Tensor]


def _fail(path: Path, problem: str) -> RvcCheckpointError:
    return RvcCheckpointError(f"{path.name} is not a usable RVC voice model: {problem}")


def _listed(keys: set[str] | list[str]) -> str:
    ordered = sorted(keys)
    shown = ", ".join(ordered[:_LISTED_KEYS])
    more = len(ordered) - _LISTED_KEYS
    return shown + (f" and {more} more" if more > 0 else "")


def _load_pickle(path: Path) -> Any:
    if not path.is_file():
        raise RvcCheckpointError(f"{path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise _fail(path, "the file is empty")
    with path.open("rb") as handle:
        magic = handle.read(4)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        text = str(error)
        if "Weights only load failed" in text:
            found = re.search(r"GLOBAL ([\w.]+)", text)
            what = f" ({found.group(1)})" if found else ""
            raise _fail(
                path,
                f"it contains Python objects other than tensors{what}, which are unsafe to "
                "load; RVC exports hold only tensors, numbers and strings",
            ) from None
        raise _fail(path, "it is not a PyTorch file") from None
    except EOFError:
        raise _fail(path, "the file ends early (an incomplete download?)") from None
    except RuntimeError as error:
        if magic.startswith(b"PK") and not zipfile.is_zipfile(path):
            raise _fail(
                path, "the file is truncated or corrupted (an incomplete download?)"
            ) from None
        if magic.startswith(b"PK"):
            raise _fail(path, "it is a zip archive, but not a PyTorch checkpoint") from None
        raise _fail(path, f"PyTorch could not read it ({str(error).splitlines()[0]})") from None
    except Exception as error:  # pickle raises anything on garbage: KeyError, ValueError...
        raise _fail(path, f"it is not a PyTorch file ({type(error).__name__})") from None


def _classify_foreign(path: Path, payload: Any) -> RvcCheckpointError:
    if not isinstance(payload, dict):
        return _fail(path, f"it holds a {type(payload).__name__}, not RVC's export dict")
    if "model" in payload and ({"optimizer", "iteration", "learning_rate"} & payload.keys()):
        return _fail(
            path,
            "it is a training checkpoint (G_*.pth/D_*.pth), not an exported voice model; "
            "use the small .pth that RVC writes into its weights folder",
        )
    if payload and all(isinstance(value, torch.Tensor) for value in payload.values()):
        return _fail(
            path,
            "it is a bare state dict without RVC's metadata ('config', 'sr', 'f0', 'version')",
        )
    return _fail(path, f"it has no 'weight'/'config' entries (found: {_listed(list(payload))})")


def _read_version(path: Path, payload: dict[str, Any]) -> RvcVersion:
    raw = payload.get("version", "v1")
    try:
        return RvcVersion(raw)
    except ValueError:
        raise _fail(path, f"unknown version {raw!r} (expected 'v1' or 'v2')") from None


def _read_f0(path: Path, payload: dict[str, Any]) -> bool:
    raw = payload.get("f0", 1)
    if raw not in (0, 1):
        raise _fail(path, f"'f0' must be 1 or 0, got {raw!r}")
    return bool(raw)


def _read_sample_rate(path: Path, payload: dict[str, Any], config: list[Any]) -> int:
    raw = payload.get("sr")
    if isinstance(raw, str) and raw in SAMPLE_RATES:
        rate = SAMPLE_RATES[raw]
    elif isinstance(raw, int) and not isinstance(raw, bool) and raw in SAMPLE_RATES.values():
        rate = raw
    else:
        raise _fail(path, f"unsupported sample rate {raw!r} (RVC models are 32k, 40k or 48k)")
    if not config or config[-1] != rate:
        found = config[-1] if config else None
        raise _fail(path, f"'sr' says {raw} but its config ends with sample rate {found!r}")
    return rate


def _read_weights(path: Path, payload: dict[str, Any]) -> dict[str, torch.Tensor]:
    raw = payload["weight"]
    if not isinstance(raw, dict) or not raw:
        raise _fail(path, "'weight' is not a state dict of tensors")
    not_tensors = [key for key, value in raw.items() if not isinstance(value, torch.Tensor)]
    if not_tensors:
        raise _fail(path, f"'weight' holds non-tensor entries: {_listed(not_tensors)}")
    kept = {k: v for k, v in raw.items() if not k.startswith(TRAINING_ONLY_PREFIX)}
    folded = fold_weight_norm(kept)
    return {key: value.float() for key, value in folded.items()}


def _check_feature_kind(
    path: Path, weights: dict[str, torch.Tensor], version: RvcVersion, has_f0: bool
) -> None:
    """Explain a version/f0 flag that disagrees with the weights before listing keys."""
    phone = weights.get("enc_p.emb_phone.weight")
    if phone is not None and phone.dim() == 2 and phone.shape[1] != version.content_dim:
        other = {256: "v1", 768: "v2"}.get(phone.shape[1], "unknown")
        raise _fail(
            path,
            f"it says {version.value} but its input layer takes {phone.shape[1]}-d features "
            f"({other}); the file's 'version' entry is wrong",
        )
    has_pitch_table = "enc_p.emb_pitch.weight" in weights
    if has_pitch_table != has_f0:
        said = "pitch-guided (f0=1)" if has_f0 else "without pitch (f0=0)"
        actual = "have a" if has_pitch_table else "have no"
        raise _fail(path, f"it says it is {said} but its weights {actual} pitch embedding")


def check_weights(path: Path, config: SynthesizerConfig, weights: dict[str, torch.Tensor]) -> None:
    """Every key and shape must match the network the config describes (built on meta)."""
    with torch.device("meta"):
        expected = {key: tuple(v.shape) for key, v in Synthesizer(config).state_dict().items()}
    missing = expected.keys() - weights.keys()
    unexpected = weights.keys() - expected.keys()
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} weights ({_listed(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected weights ({_listed(unexpected)})")
        raise _fail(path, "its weights do not fit its config: " + "; ".join(parts))
    wrong = [
        f"{key} is {list(weights[key].shape)}, expected {list(shape)}"
        for key, shape in expected.items()
        if tuple(weights[key].shape) != shape
    ]
    if wrong:
        raise _fail(path, "weight shapes do not fit its config: " + "; ".join(wrong[:3]))


def read_checkpoint(path: Path) -> RvcCheckpoint:
    """Load and fully validate an export (no network is built); raises RvcCheckpointError."""
    path = Path(path)
    payload = _load_pickle(path)
    if not isinstance(payload, dict) or "weight" not in payload or "config" not in payload:
        raise _classify_foreign(path, payload)
    vocoder = payload.get("vocoder")
    if isinstance(vocoder, str) and vocoder.lower() not in SUPPORTED_VOCODERS:
        raise _fail(path, f"it uses the {vocoder} vocoder; only RVC's HiFi-GAN is supported")
    embedder = payload.get("embedder_model")
    if isinstance(embedder, str) and embedder.lower() not in SUPPORTED_EMBEDDERS:
        raise _fail(
            path,
            f"it was trained on {embedder} content features; Parrot reads ContentVec "
            "(RVC's default), so this voice would come out garbled",
        )
    version = _read_version(path, payload)
    has_f0 = _read_f0(path, payload)
    config_values = payload["config"]
    if not isinstance(config_values, list | tuple) or len(config_values) != CONFIG_LENGTH:
        found = len(config_values) if isinstance(config_values, list | tuple) else "no list"
        raise _fail(path, f"'config' must be a list of {CONFIG_LENGTH} values, got {found}")
    sample_rate = _read_sample_rate(path, payload, list(config_values))
    weights = _read_weights(path, payload)
    speaker_table = weights.get("emb_g.weight")
    if speaker_table is None or speaker_table.dim() != 2:
        raise _fail(path, "it has no speaker table (emb_g.weight)")
    _check_feature_kind(path, weights, version, has_f0)
    try:
        config = SynthesizerConfig.from_positional(
            config_values, version, has_f0, speakers=int(speaker_table.shape[0])
        )
    except ConfigError as error:
        raise _fail(path, f"its config is invalid: {error}") from None
    check_weights(path, config, weights)
    info = RvcModelInfo(
        version=version,
        sample_rate=sample_rate,
        has_f0=has_f0,
        speakers=config.speakers,
        info=str(payload.get("info", "")),
    )
    return RvcCheckpoint(path=path, info=info, config=config, weights=weights)


def describe_checkpoint(path: Path) -> RvcModelInfo:
    """Validate an export and say what it is (for an upload check; builds no network)."""
    return read_checkpoint(path).info
