"""Content features through transformers' HubertModel, and finding the shared weights."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.config import EngineConfig
from engine.convert.errors import ContentEncoderError, ConversionWeightsMissingError
from engine.convert.features import ContentFeatures
from engine.convert.params import PitchMethod
from engine.convert.runtime import ConversionModels
from engine.convert.synthesizer import RvcVersion
from engine.convert.weights import content_encoder_folder, rmvpe_path
from tests.checkpoints.rvc import content_encoder, models_dir
from tests.engine.convert_support import one_torch_thread, tone

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)


@pytest.fixture(scope="module")
def features() -> ContentFeatures:
    return ContentFeatures.load(content_encoder(), "cpu")


def test_loads_contentvecs_layout_with_its_projection(features: ContentFeatures) -> None:
    assert features.has_projection
    assert features.layers == 9
    assert not features.normalize
    assert features.model.final_proj.weight.shape == (256, 768)


def test_v2_reads_the_last_layer_at_50_frames_per_second(features: ContentFeatures) -> None:
    audio = tone(150.0, 1.0)
    v2 = features.extract(audio, RvcVersion.V2)
    assert v2.shape == (49, 768)  # (16000 - 400) // 320 + 1
    assert v2.dtype == torch.float32
    with torch.inference_mode():
        expected = features.model(torch.from_numpy(audio)[None]).last_hidden_state[0]
    torch.testing.assert_close(v2, expected)


def test_v1_reads_layer_9_through_final_proj(features: ContentFeatures) -> None:
    audio = tone(150.0, 1.0)
    v1 = features.extract(audio, RvcVersion.V1)
    assert v1.shape == (49, 256)
    with torch.inference_mode():
        hidden = features.model(torch.from_numpy(audio)[None], output_hidden_states=True)
        expected = features.model.final_proj(hidden.hidden_states[9])[0]
    torch.testing.assert_close(v1, expected)


def _save_hubert(folder: Path, *, hidden: int = 768, projection: bool) -> Path:
    from transformers import HubertConfig, HubertModel

    from engine.convert.content_model import HubertWithProjection

    config = HubertConfig(
        hidden_size=hidden,
        num_hidden_layers=1,
        num_attention_heads=4,
        intermediate_size=64,
        conv_dim=(32,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        classifier_proj_size=16,
    )
    model = (HubertWithProjection if projection else HubertModel)(config)
    config.save_pretrained(folder)
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    return folder


def test_an_encoder_without_final_proj_serves_v2_only(tmp_path: Path) -> None:
    features = ContentFeatures.load(_save_hubert(tmp_path, projection=False), "cpu")
    assert not features.has_projection
    assert features.extract(tone(150.0, 0.5), RvcVersion.V2).shape[1] == 768
    with pytest.raises(ContentEncoderError, match="v1 voices need ContentVec's final_proj"):
        features.extract(tone(150.0, 0.5), RvcVersion.V1)


def test_rejects_an_encoder_of_another_width(tmp_path: Path) -> None:
    with pytest.raises(ContentEncoderError, match="hidden size 32; RVC needs HuBERT-base"):
        ContentFeatures.load(_save_hubert(tmp_path, hidden=32, projection=True), "cpu")


def test_rejects_a_folder_without_config(tmp_path: Path) -> None:
    with pytest.raises(ContentEncoderError, match=r"has no config\.json"):
        ContentFeatures.load(tmp_path, "cpu")


def test_finds_the_weights_in_the_models_folder(tmp_path: Path) -> None:
    config = EngineConfig(data_dir=tmp_path / "data", models_dir=models_dir(tmp_path / "models"))
    assert content_encoder_folder(config) == tmp_path / "models" / "contentvec"
    assert rmvpe_path(config) == tmp_path / "models" / "rmvpe" / "rmvpe.pt"


def test_missing_weights_fail_at_once_naming_the_download_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    config = EngineConfig(data_dir=tmp_path / "data", models_dir=tmp_path / "models")
    models = ConversionModels(config, "cpu")
    started = time.perf_counter()
    with pytest.raises(ConversionWeightsMissingError) as content:
        models.content_features()
    with pytest.raises(ConversionWeightsMissingError) as pitch:
        models.pitch_extractor(PitchMethod.RMVPE)
    assert time.perf_counter() - started < 10  # no network retries (those take 20 s and more)
    for error, folder in ((content, "contentvec"), (pitch, "rmvpe")):
        message = str(error.value)
        assert "run `parrot models download rvc`" in message
        assert str(tmp_path / "models" / folder) in message
    assert models.loaded == []


def test_fcpe_needs_no_download(tmp_path: Path) -> None:
    models = ConversionModels(EngineConfig(data_dir=tmp_path), "cpu")
    assert models.pitch_extractor(PitchMethod.FCPE).method is PitchMethod.FCPE
    assert models.pitch_extractor(PitchMethod.FCPE) is models.pitch_extractor(PitchMethod.FCPE)
    assert models.loaded == ["pitch: fcpe"]
    models.release()
    assert models.loaded == []


def test_inputs_are_not_normalised_unless_the_preprocessor_says_so(tmp_path: Path) -> None:
    folder = _save_hubert(tmp_path, projection=True)
    (folder / "preprocessor_config.json").write_text('{"do_normalize": true}')
    features = ContentFeatures.load(folder, "cpu")
    assert features.normalize
    loud = features.extract(tone(150.0, 0.5, amplitude=0.9), RvcVersion.V2)
    quiet = features.extract(tone(150.0, 0.5, amplitude=0.09), RvcVersion.V2)
    np.testing.assert_allclose(loud.numpy(), quiet.numpy(), atol=1e-3)


def test_loads_a_hubert_saved_by_transformers_itself(tmp_path: Path) -> None:
    """``save_pretrained`` writes safetensors, not ContentVec's ``pytorch_model.bin``."""
    from transformers import HubertConfig, HubertModel

    config = HubertConfig(
        num_hidden_layers=1,
        num_attention_heads=4,
        intermediate_size=64,
        conv_dim=(32,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
    )
    HubertModel(config).save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    features = ContentFeatures.load(tmp_path, "cpu")
    assert features.extract(tone(150.0, 0.5), RvcVersion.V2).shape[1] == 768
