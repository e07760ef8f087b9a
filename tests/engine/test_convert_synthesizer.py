"""The synthesizer for every (version, rate, f0): RVC's checkpoint layout, round trips, weight norm.

The digests pin each network's checkpoint layout, i.e. every ``key:shape`` of an export's
``weight`` (enc_q excluded), sorted and hashed. They were measured once from RVC's own
model classes (RVC-Project/Retrieval-based-Voice-Conversion-WebUI, SynthesizerTrnMs256NSFsid,
...768NSFsid and their _nono variants, instantiated with each layout's config): a change
here means real community models would no longer load.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from pathlib import Path

import pytest
import torch

from engine.convert.checkpoint import read_checkpoint
from engine.convert.synthesizer import Synthesizer, normed_layer_names, source, split_weight_norm
from engine.convert.synthesizer.weight_norm import fold_weight_norm
from engine.convert.voice_model import load_rvc_model
from tests.checkpoints.rvc import (
    STANDARD_LAYOUTS,
    export_payload,
    random_synthesizer,
    standard_values,
    synthesizer_config,
    write_export,
)
from tests.engine.convert_support import one_torch_thread

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)

UPSTREAM_LAYOUT_DIGESTS = {
    ("v1", 32_000, True): "5a69834e10a9e78c",
    ("v1", 32_000, False): "468131da6596e064",
    ("v1", 40_000, True): "34e03cdd45b60587",
    ("v1", 40_000, False): "a0bc0bcdc37552aa",
    ("v1", 48_000, True): "9aba2d1531b3927f",
    ("v1", 48_000, False): "468131da6596e064",
    ("v2", 32_000, True): "3a1241ec2e588c5a",
    ("v2", 32_000, False): "f0652ee50cc85501",
    ("v2", 40_000, True): "64de2c65bfdfa26d",
    ("v2", 40_000, False): "5138f1a9fde8485c",
    ("v2", 48_000, True): "04d04f838fa3c17e",
    ("v2", 48_000, False): "a77cdcaf4f508b4d",
}
ALL_LAYOUTS = sorted(UPSTREAM_LAYOUT_DIGESTS)


def _layout_digest(state: dict[str, torch.Tensor]) -> str:
    lines = sorted(f"{key}:{'x'.join(map(str, value.shape))}" for key, value in state.items())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def _checkpoint_state(version: str, rate: int, has_f0: bool) -> dict[str, torch.Tensor]:
    config = synthesizer_config(standard_values(version, rate), version, has_f0)
    with torch.device("meta"):
        module = Synthesizer(config)
    return split_weight_norm(module.state_dict(), normed_layer_names(module))


def test_every_standard_layout_is_covered() -> None:
    assert {(v, r) for v, r, _ in ALL_LAYOUTS} == set(STANDARD_LAYOUTS)


@pytest.mark.parametrize(("version", "rate", "has_f0"), ALL_LAYOUTS)
def test_checkpoint_layout_equals_rvcs(version: str, rate: int, has_f0: bool) -> None:
    state = _checkpoint_state(version, rate, has_f0)
    assert _layout_digest(state) == UPSTREAM_LAYOUT_DIGESTS[(version, rate, has_f0)]


def test_layout_spot_checks() -> None:
    """A readable sample of what the digests pin (v2, 48 kHz, pitch-guided)."""
    state = _checkpoint_state("v2", 48_000, True)
    shapes = {key: list(value.shape) for key, value in state.items()}
    assert shapes["enc_p.emb_phone.weight"] == [192, 768]
    assert shapes["enc_p.emb_pitch.weight"] == [256, 192]
    assert shapes["enc_p.encoder.attn_layers.5.emb_rel_k"] == [1, 21, 96]
    assert shapes["dec.ups.0.weight_g"] == [512, 1, 1]
    assert shapes["dec.ups.0.weight_v"] == [512, 256, 24]
    assert shapes["dec.noise_convs.0.weight"] == [256, 1, 80]
    assert shapes["dec.m_source.l_linear.weight"] == [1, 1]
    assert shapes["flow.flows.6.enc.cond_layer.weight_v"] == [1152, 256, 1]
    assert shapes["emb_g.weight"] == [109, 256]
    assert not any(key.startswith("enc_q") for key in shapes)
    assert "flow.flows.1.pre.weight" not in shapes  # odd flows are parameter-free flips


@pytest.mark.parametrize(("version", "rate", "has_f0"), ALL_LAYOUTS)
def test_export_round_trips(version: str, rate: int, has_f0: bool, tmp_path: Path) -> None:
    values = standard_values(version, rate, speakers=1)
    original = random_synthesizer(synthesizer_config(values, version, has_f0), quick=True)
    payload = export_payload(original)
    assert all(value.dtype == torch.float16 for value in payload["weight"].values())
    path = write_export(tmp_path / "voice.pth", payload)

    model = load_rvc_model(path)
    assert (model.version.value, model.sample_rate, model.has_f0) == (version, rate, has_f0)
    assert model.info.speakers == 1
    assert model.hop_length * 100 == rate
    loaded = model.synthesizer.state_dict()
    expected = original.state_dict()
    assert {k: v.shape for k, v in loaded.items()} == {k: v.shape for k, v in expected.items()}
    worst = max(float((loaded[key] - value).abs().max()) for key, value in expected.items())
    assert worst < 2e-4  # weights are within ±0.03; fp16 storage keeps ~3 significant digits


def _weights_equal(a: torch.Tensor, b: torch.Tensor) -> None:
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_folding_matches_torchs_parametrized_weight_norm() -> None:
    torch.manual_seed(0)
    for layer in (torch.nn.Conv1d(4, 6, 3), torch.nn.ConvTranspose1d(6, 4, 8, 4)):
        normed = torch.nn.utils.parametrizations.weight_norm(layer)
        with torch.no_grad():
            normed.parametrizations.weight.original0.mul_(1.7)
        state = {f"layer.{key}": value for key, value in normed.state_dict().items()}
        assert "layer.parametrizations.weight.original0" in state
        folded = fold_weight_norm(state)
        assert set(folded) == {"layer.weight", "layer.bias"}
        _weights_equal(folded["layer.weight"], normed.weight.detach())


def test_folding_matches_torchs_legacy_weight_norm() -> None:
    torch.manual_seed(0)
    layer = torch.nn.ConvTranspose1d(6, 4, 8, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the legacy API is deprecated
        normed = torch.nn.utils.weight_norm(layer)
    with torch.no_grad():
        normed.weight_g.mul_(0.3)
        normed(torch.zeros(1, 6, 5))  # the hook recomputes .weight
    state = {f"up.{key}": value for key, value in normed.state_dict().items()}
    assert {"up.weight_g", "up.weight_v"} <= state.keys()
    _weights_equal(fold_weight_norm(state)["up.weight"], normed.weight.detach())


def test_split_then_fold_is_the_identity() -> None:
    weight = torch.randn(8, 3, 5)
    split = split_weight_norm({"a.weight": weight, "a.bias": torch.ones(8)}, {"a"})
    assert split["a.weight_g"].shape == (8, 1, 1)
    _weights_equal(fold_weight_norm(split)["a.weight"], weight)


def test_exports_without_weight_norm_pairs_load_too(tmp_path: Path) -> None:
    """Some tools fold the norms before sharing; plain ``.weight`` keys are accepted."""
    values = standard_values("v2", 40_000, speakers=1)
    values[2:7] = [16, 16, 32, 2, 2]
    values[13], values[16] = 32, 16
    original = random_synthesizer(synthesizer_config(values, "v2", True), quick=True)
    payload = export_payload(original)
    payload["weight"] = {k: v.half() for k, v in original.state_dict().items()}
    checkpoint = read_checkpoint(write_export(tmp_path / "folded.pth", payload))
    assert checkpoint.weights.keys() == original.state_dict().keys()


def test_sine_source_keeps_its_phase_over_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "VOICED_NOISE", 0.0)
    rate, hop, frames = 40_000, 400, 30_000  # five minutes of one note
    excitation = source.sine_excitation(torch.full((1, frames), 441.25), hop, rate, None)
    samples = torch.arange(1, frames * hop + 1, dtype=torch.float64)
    exact = source.SINE_AMPLITUDE * torch.sin(2 * math.pi * (441.25 * samples / rate % 1.0))
    assert float((excitation[0].double() - exact).abs().max()) < 1e-5


def test_sine_source_is_noise_where_unvoiced_and_seeded() -> None:
    f0 = torch.tensor([[0.0] * 50 + [220.0] * 50])
    first = source.sine_excitation(f0, 100, 10_000, torch.Generator().manual_seed(5))
    again = source.sine_excitation(f0, 100, 10_000, torch.Generator().manual_seed(5))
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    unvoiced, voiced = first[0, :5000], first[0, 5000:]
    assert float(unvoiced.std()) == pytest.approx(source.UNVOICED_NOISE, rel=0.1)
    assert float(voiced.std()) == pytest.approx(source.SINE_AMPLITUDE / math.sqrt(2), rel=0.05)
