"""Pitch extractors: the real FCPE and Praat on a tone; RMVPE's network on rmvpe.pt's format."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.convert.errors import PitchExtractorUnavailableError
from engine.convert.params import PitchMethod
from engine.convert.pitch.contour import frame_count
from engine.convert.pitch.fcpe import FcpeExtractor
from engine.convert.pitch.praat import PraatExtractor
from engine.convert.pitch.rmvpe import RmvpeExtractor, RmvpeWeightsError
from tests.checkpoints.rvc import rmvpe_weights
from tests.engine.convert_support import one_torch_thread, tone, voiced_median

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)


def test_fcpe_hears_220_hz() -> None:
    extractor = FcpeExtractor.load("cpu")
    assert extractor.method is PitchMethod.FCPE
    audio = tone(220.0, 1.0)
    f0 = extractor.extract(audio, frame_count(len(audio)))
    assert f0.shape == (100,)
    assert f0.dtype == np.float32
    assert voiced_median(f0) == pytest.approx(220.0, rel=0.01)


def test_fcpe_finds_silence_unvoiced() -> None:
    f0 = FcpeExtractor.load("cpu").extract(np.zeros(8000, dtype=np.float32), 50)
    assert f0.shape == (50,)
    assert np.all(f0 == 0)


def test_praat_hears_220_hz_and_pads_to_the_frame_count() -> None:
    pytest.importorskip("parselmouth")
    extractor = PraatExtractor.load()
    audio = tone(220.0, 1.0)
    f0 = extractor.extract(audio, 100)
    assert f0.shape == (100,)
    assert voiced_median(f0) == pytest.approx(220.0, rel=0.01)
    assert f0[0] == 0.0  # Praat's first frame centre is later than 0 s: padded unvoiced


def test_praat_follows_an_octave_jump() -> None:
    pytest.importorskip("parselmouth")
    audio = np.concatenate([tone(200.0, 0.5), tone(400.0, 0.5)])
    f0 = PraatExtractor.load().extract(audio, 100)
    assert voiced_median(f0[10:40]) == pytest.approx(200.0, rel=0.02)
    assert voiced_median(f0[60:90]) == pytest.approx(400.0, rel=0.02)


def test_praat_without_parselmouth_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "parselmouth", None)  # makes the import fail
    with pytest.raises(PitchExtractorUnavailableError, match="pip install praat-parselmouth"):
        PraatExtractor.load()


@pytest.fixture(scope="module")
def rmvpe() -> RmvpeExtractor:
    return RmvpeExtractor.load(rmvpe_weights(), "cpu")


def test_rmvpe_loads_the_published_state_dict_format(rmvpe: RmvpeExtractor) -> None:
    state = torch.load(rmvpe_weights(), weights_only=True)
    assert state["fc.0.gru.weight_ih_l0"].shape == (768, 384)
    assert state["fc.1.weight"].shape == (360, 512)
    assert state["unet.encoder.layers.0.conv.0.shortcut.weight"].shape == (16, 1, 1, 1)
    assert state["unet.decoder.layers.4.conv1.0.weight"].shape == (32, 16, 3, 3)
    assert state["cnn.weight"].shape == (3, 16, 3, 3)
    assert len(state) == 741
    assert rmvpe.network.fc[0].gru.weight_ih_l0.dtype == torch.float32


def test_rmvpe_front_end_and_frame_count(rmvpe: RmvpeExtractor) -> None:
    audio = tone(220.0, 0.7)
    mel = rmvpe.log_mel(torch.from_numpy(audio))
    assert mel.shape == (128, len(audio) // 160 + 1)
    salience = rmvpe.salience(audio)
    assert salience.shape == (len(audio) // 160 + 1, 360)
    assert np.all((salience >= 0) & (salience <= 1))
    f0 = rmvpe.extract(audio, frame_count(len(audio)))
    assert f0.shape == (70,)
    assert np.all((f0 == 0) | ((f0 >= 50) & (f0 <= 1100)))


def test_rmvpe_rejects_another_networks_weights(tmp_path: Path) -> None:
    path = tmp_path / "rmvpe.pt"
    torch.save({"encoder.weight": torch.zeros(3)}, path)
    expected = "is not RMVPE's state dict: 623 missing and 1 unexpected keys"
    with pytest.raises(RmvpeWeightsError, match=expected):
        RmvpeExtractor.load(path, "cpu")


def test_rmvpe_rejects_a_file_torch_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "rmvpe.pt"
    path.write_text("not weights")
    with pytest.raises(RmvpeWeightsError, match="is not a readable RMVPE checkpoint"):
        RmvpeExtractor.load(path, "cpu")
