"""Random-weight RVC fixtures of the real architectures, written in the real file formats.

- voice models: RVC exports (``.pth``: fp16 ``weight`` with weight_g/weight_v pairs, the
  18-value ``config``, ``sr``, ``f0``, ``version``, ``info``) for the standard layouts of
  every (version, rate, f0), or narrow ones for fast tests;
- the content encoder: a HuBERT-base-shaped ``HubertModel`` with ContentVec's
  ``final_proj``, laid out like ``lengyue233/content-vec-best`` (config.json +
  pytorch_model.bin with legacy weight-norm names), 9 layers so v1's layer 9 exists;
- ``rmvpe.pt``: a random RMVPE state dict;
- ``.index``: a faiss IVF-Flat index over random vectors, as RVC's training writes.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.checkpoints.cache import build_once, versions_key

STANDARD_LAYOUTS: dict[tuple[str, int], tuple[list[int], list[int], int]] = {
    # (version, rate): (upsample rates, upsample kernel sizes, spectrogram channels)
    ("v1", 32_000): ([10, 4, 2, 2, 2], [16, 16, 4, 4, 4], 513),
    ("v1", 40_000): ([10, 10, 2, 2], [16, 16, 4, 4], 1025),
    ("v1", 48_000): ([10, 6, 2, 2, 2], [16, 16, 4, 4, 4], 1025),
    ("v2", 32_000): ([10, 8, 2, 2], [20, 16, 4, 4], 513),
    ("v2", 40_000): ([10, 10, 2, 2], [16, 16, 4, 4], 1025),
    ("v2", 48_000): ([12, 10, 2, 2], [24, 20, 4, 4], 1025),
}
RATE_LABELS = {32_000: "32k", 40_000: "40k", 48_000: "48k"}
STANDARD_SPEAKERS = 109
"""RVC's training config declares 109 speakers; exports keep that table."""
CONTENT_LAYERS = 9
CONTENT_INTERMEDIATE = 1024
INDEX_VECTORS = 400
_SEED = 1234


def standard_values(version: str, rate: int, speakers: int = STANDARD_SPEAKERS) -> list[Any]:
    """The 18 positional config values RVC writes for this layout."""
    rates, kernels, spec_channels = STANDARD_LAYOUTS[(version, rate)]
    return [
        spec_channels, 32, 192, 192, 768, 2, 6, 3, 0, "1", [3, 7, 11],
        [[1, 3, 5], [1, 3, 5], [1, 3, 5]], rates, 512, kernels, speakers, 256, rate,
    ]  # fmt: skip


def small_values(version: str, rate: int, speakers: int = 1) -> list[Any]:
    """A narrow network with the standard structure: a valid export that runs in a blink."""
    values = standard_values(version, rate, speakers)
    values[2:7] = [16, 16, 32, 2, 2]  # inter, hidden, filter, heads, layers
    values[13] = 32  # upsample_initial_channel
    values[16] = 16  # gin_channels
    return values


def synthesizer_config(values: list[Any], version: str, has_f0: bool) -> Any:
    from engine.convert.synthesizer import RvcVersion, SynthesizerConfig

    return SynthesizerConfig.from_positional(values, RvcVersion(version), has_f0, values[15])


def random_synthesizer(config: Any, seed: int = _SEED, *, quick: bool = False) -> Any:
    """A synthesizer with random weights; ``quick`` skips torch's (slow) initialisers."""
    import torch

    from engine.convert.synthesizer import Synthesizer

    generator = torch.Generator().manual_seed(seed)
    if quick:
        with torch.device("meta"):
            module = Synthesizer(config)
        module = module.to_empty(device="cpu")
        with torch.no_grad():
            for parameter in module.parameters():
                parameter.uniform_(-0.03, 0.03, generator=generator)
        return module.eval()
    torch.manual_seed(seed)
    module = Synthesizer(config)
    with torch.no_grad():  # HiFi-GAN's own init keeps the untrained vocoder's output tame
        for name, parameter in module.named_parameters():
            if name.startswith("dec.") and name.endswith("weight") and parameter.dim() == 3:
                parameter.normal_(0.0, 0.01, generator=generator)
    return module.eval()


def export_payload(synthesizer: Any, *, info: str = "random test weights") -> dict[str, Any]:
    """The dict RVC's training saves for a finished voice, built from ``synthesizer``."""
    from engine.convert.synthesizer import normed_layer_names, split_weight_norm

    config = synthesizer.config
    state = split_weight_norm(synthesizer.state_dict(), normed_layer_names(synthesizer))
    payload: dict[str, Any] = collections.OrderedDict()
    payload["weight"] = {key: value.detach().half() for key, value in state.items()}
    spec_channels = STANDARD_LAYOUTS[(config.version.value, config.sample_rate)][2]
    payload["config"] = config.to_positional(spec_channels=spec_channels)
    payload["info"] = info
    payload["sr"] = RATE_LABELS[config.sample_rate]
    payload["f0"] = int(config.has_f0)
    payload["version"] = config.version.value
    return payload


def write_export(path: Path, payload: dict[str, Any]) -> Path:
    import torch

    torch.save(payload, path)
    return path


def _voice_builder(values: list[Any], version: str, has_f0: bool) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        synthesizer = random_synthesizer(synthesizer_config(values, version, has_f0))
        write_export(folder / "voice.pth", export_payload(synthesizer))

    return build


def rvc_voice(version: str = "v2", rate: int = 40_000, has_f0: bool = True) -> Path:
    """A cached full-size random export (about 55 MB, built in a few seconds)."""
    key = versions_key("torch", extra=f"rvc-voice-{version}-{rate}-{has_f0}-v1")
    values = standard_values(version, rate)
    folder = build_once(
        f"rvc-voice-{version}-{rate // 1000}k-f{int(has_f0)}",
        key,
        _voice_builder(values, version, has_f0),
    )
    return folder / "voice.pth"


def small_rvc_voice(version: str = "v2", rate: int = 40_000, has_f0: bool = True) -> Path:
    """A cached narrow export (well under 1 MB)."""
    key = versions_key("torch", extra=f"rvc-small-{version}-{rate}-{has_f0}-v1")
    values = small_values(version, rate)
    folder = build_once(
        f"rvc-small-{version}-{rate // 1000}k-f{int(has_f0)}",
        key,
        _voice_builder(values, version, has_f0),
    )
    return folder / "voice.pth"


def _build_content_encoder(folder: Path) -> None:
    import torch
    from transformers import HubertConfig

    from engine.convert.content_model import HubertWithProjection

    torch.manual_seed(_SEED)
    config = HubertConfig(
        num_hidden_layers=CONTENT_LAYERS,
        intermediate_size=CONTENT_INTERMEDIATE,
        classifier_proj_size=256,
        architectures=["HubertModelWithFinalProj"],
    )
    model = HubertWithProjection(config)
    legacy_names = {
        ".parametrizations.weight.original0": ".weight_g",
        ".parametrizations.weight.original1": ".weight_v",
    }
    state = {}
    for key, value in model.state_dict().items():
        for new, old in legacy_names.items():
            key = key.replace(new, old)
        state[key] = value.detach().clone()
    config.save_pretrained(folder)
    torch.save(state, folder / "pytorch_model.bin")


def content_encoder() -> Path:
    """A cached random ContentVec-shaped folder (about 180 MB)."""
    key = versions_key("torch", "transformers", extra=f"contentvec-{CONTENT_LAYERS}-v1")
    return build_once("rvc-contentvec", key, _build_content_encoder)


def _build_rmvpe(folder: Path) -> None:
    import torch

    from engine.convert.pitch.rmvpe_net import RmvpeNetwork

    torch.manual_seed(_SEED)
    state = RmvpeNetwork().state_dict()  # the published file stores float16, like this
    half = {
        key: value.half() if value.is_floating_point() else value for key, value in state.items()
    }
    torch.save(half, folder / "rmvpe.pt")


def rmvpe_weights() -> Path:
    """A cached random ``rmvpe.pt`` (181 MB, like the real one)."""
    key = versions_key("torch", extra="rmvpe-v2")
    return build_once("rvc-rmvpe", key, _build_rmvpe) / "rmvpe.pt"


def write_index(path: Path, dimension: int, count: int = INDEX_VECTORS, seed: int = _SEED) -> Path:
    """An IVF-Flat faiss index over random vectors (RVC uses IVF with nprobe 1)."""
    import faiss
    import numpy as np

    vectors = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    lists = max(1, int(np.sqrt(count)) // 2)
    index = faiss.index_factory(dimension, f"IVF{lists},Flat")
    index.train(vectors)
    faiss.extract_index_ivf(index).nprobe = 1
    index.add(vectors)
    faiss.write_index(index, str(path))
    return path


def models_dir(root: Path) -> Path:
    """A PARROT_MODELS_DIR holding the random content encoder and RMVPE."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "contentvec").symlink_to(content_encoder(), target_is_directory=True)
    (root / "rmvpe").symlink_to(rmvpe_weights().parent, target_is_directory=True)
    return root
