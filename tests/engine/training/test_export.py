"""The exported model: RVC's inference format, read by Parrot's own loader and inference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.convert.checkpoint import read_checkpoint
from engine.convert.describe import describe_voice_files
from engine.convert.synthesizer import Synthesizer, fold_weight_norm
from engine.convert.voice_model import load_rvc_model
from engine.training.export import write_export
from engine.training.network import TrainableSynthesizer
from engine.training.norms import apply_weight_norm, to_legacy_keys
from engine.training.pretrained import load_pretrained
from tests.checkpoints.rvc_pretrained import rvc_pretrained

STANDARD_KEYS = {"weight", "config", "info", "sr", "f0", "version"}


@pytest.fixture(scope="module", name="generator")
def generator_fixture() -> TrainableSynthesizer:
    weights = load_pretrained(*rvc_pretrained(tiny=True))
    network = apply_weight_norm(TrainableSynthesizer(weights.config))
    network.load_state_dict(weights.generator)
    return network


@pytest.fixture(scope="module", name="exported")
def exported_fixture(
    generator: TrainableSynthesizer, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return write_export(generator, tmp_path_factory.mktemp("export") / "voice.pth", epochs=7)


def test_the_file_has_rvcs_keys_and_config(exported: Path) -> None:
    payload = torch.load(exported, weights_only=True)
    assert set(payload) == STANDARD_KEYS
    assert (payload["sr"], payload["f0"], payload["version"], payload["info"]) == (
        "40k", 1, "v2", "7epoch",
    )  # fmt: skip
    config = payload["config"]
    assert len(config) == 18
    assert config[:2] == [1025, 32] and config[9] == "1" and config[-1] == 40_000
    assert config[12] == [10, 10, 2, 2] and config[14] == [16, 16, 4, 4] and config[15] == 109
    weights = payload["weight"]
    assert not [key for key in weights if key.startswith("enc_q")]
    assert {value.dtype for value in weights.values()} == {torch.float16}
    assert "dec.ups.0.weight_g" in weights and "dec.ups.0.weight_v" in weights
    assert "flow.flows.0.enc.in_layers.0.weight_v" in weights
    assert "dec.conv_pre.weight" in weights and "emb_g.weight" in weights


def test_parrot_reads_and_describes_it(exported: Path) -> None:
    info = describe_voice_files(exported)
    assert str(info) == "RVC v2, 40 kHz, pitch-guided, 109 speakers"
    assert info.info == "7epoch"


def test_its_weights_are_the_trained_ones(generator: TrainableSynthesizer, exported: Path) -> None:
    loaded = read_checkpoint(exported).weights
    effective = fold_weight_norm(to_legacy_keys(generator.state_dict()))
    for key, value in loaded.items():
        torch.testing.assert_close(value, effective[key].float(), rtol=1e-2, atol=1e-4)


def test_parrots_inference_sings_like_the_trained_network(
    generator: TrainableSynthesizer, exported: Path
) -> None:
    model = load_rvc_model(exported)
    frames = 60
    features = torch.randn(1, frames, 768, generator=torch.Generator().manual_seed(1))
    pitch = torch.full((1, frames), 180.0)
    coarse = torch.full((1, frames), 60, dtype=torch.long)

    def sing(network: Synthesizer) -> np.ndarray:
        audio = network.infer(
            features,
            0,
            coarse_pitch=coarse,
            pitch_hz=pitch,
            generator=torch.Generator().manual_seed(5),
        )
        result: np.ndarray = audio.numpy()
        return result

    ours, theirs = sing(generator.eval()), sing(model.synthesizer)
    assert ours.shape == theirs.shape == (frames * 400,)
    assert np.corrcoef(ours, theirs)[0, 1] > 0.99
