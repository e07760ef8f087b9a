"""The trainable network's layout: RVC's keys and shapes, the flow, spectrograms, files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.convert.synthesizer import Synthesizer, normed_layer_names, split_weight_norm
from engine.training.batches import SegmentBank
from engine.training.discriminator import MultiPeriodDiscriminator
from engine.training.errors import TrainingCheckpointError
from engine.training.mel import MEL_BANDS, SPEC_CHANNELS, linear_spectrogram, mel_spectrogram
from engine.training.network import TrainableSynthesizer
from engine.training.norms import apply_weight_norm, to_legacy_keys
from engine.training.pretrained import load_pretrained
from engine.training.training_set import HOP, Segment, TrainingSetWriter
from tests.checkpoints.rvc import export_payload, random_synthesizer, small_rvc_voice
from tests.checkpoints.rvc_pretrained import network_config, rvc_pretrained


def legacy_shapes(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    state = to_legacy_keys(apply_weight_norm(module).state_dict())
    return {key: tuple(value.shape) for key, value in state.items()}


def test_the_generator_is_the_inference_network_plus_enc_q() -> None:
    """Outside enc_q, the keys are those of an RVC export (which inference already reads)."""
    config = network_config(tiny=False)
    with torch.device("meta"):
        trainable = legacy_shapes(TrainableSynthesizer(config))
        plain = Synthesizer(config.synthesizer)
        export = split_weight_norm(plain.state_dict(), normed_layer_names(plain))
    outside = {key: shape for key, shape in trainable.items() if not key.startswith("enc_q.")}
    assert outside == {key: tuple(value.shape) for key, value in export.items()}
    assert trainable["enc_q.pre.weight"] == (192, 1025, 1)
    assert trainable["enc_q.enc.in_layers.15.weight_v"] == (384, 192, 5)
    assert trainable["enc_q.enc.cond_layer.weight_v"] == (192 * 2 * 16, 256, 1)
    assert trainable["enc_q.proj.weight"] == (384, 192, 1)
    assert trainable["emb_g.weight"] == (109, 256)


def test_the_discriminator_has_rvc_v2s_layout() -> None:
    with torch.device("meta"):
        shapes = legacy_shapes(MultiPeriodDiscriminator())
    assert len(shapes) == (7 + 8 * 6) * 3  # 9 sub-discriminators, bias + g + v per layer
    assert shapes["discriminators.0.convs.1.weight_v"] == (64, 4, 41)
    assert shapes["discriminators.0.convs.4.weight_g"] == (1024, 1, 1)
    assert shapes["discriminators.0.conv_post.weight_v"] == (1, 1024, 3)
    assert shapes["discriminators.1.convs.0.weight_v"] == (32, 1, 5, 1)
    assert shapes["discriminators.8.convs.4.weight_v"] == (1024, 1024, 5, 1)
    assert shapes["discriminators.8.conv_post.weight_g"] == (1, 1, 1, 1)
    assert "discriminators.9.conv_post.bias" not in shapes


def test_the_flow_forward_undoes_its_reverse() -> None:
    network = TrainableSynthesizer(network_config(tiny=True)).eval()
    z = torch.randn(2, 16, 40)
    speaker = network.emb_g(torch.tensor([0, 3])).unsqueeze(-1)
    with torch.no_grad():
        round_trip = network.flow.reverse(network.flow(z, speaker), speaker)
    torch.testing.assert_close(round_trip, z, atol=1e-5, rtol=1e-5)


def test_spectrogram_frames_line_up_with_feature_frames() -> None:
    audio = torch.randn(2, 37 * HOP) * 0.1
    assert linear_spectrogram(audio).shape == (2, SPEC_CHANNELS, 37)
    assert mel_spectrogram(audio).shape == (2, MEL_BANDS, 37)


def test_the_pretrained_files_load_and_describe_the_network() -> None:
    weights = load_pretrained(*rvc_pretrained(tiny=True))
    assert weights.config == network_config(tiny=True)
    generator = apply_weight_norm(TrainableSynthesizer(weights.config))
    generator.load_state_dict(weights.generator, strict=True)
    discriminator = apply_weight_norm(MultiPeriodDiscriminator(16))
    discriminator.load_state_dict(weights.discriminator, strict=True)


def test_wrong_pretrained_files_say_what_they_are(tmp_path: Path) -> None:
    generator, discriminator = rvc_pretrained(tiny=True)
    with pytest.raises(TrainingCheckpointError, match="is a discriminator"):
        load_pretrained(discriminator, discriminator)
    with pytest.raises(TrainingCheckpointError, match="is a generator"):
        load_pretrained(generator, generator)
    with pytest.raises(TrainingCheckpointError, match="exported voice model"):
        load_pretrained(small_rvc_voice(), discriminator)
    state = torch.load(generator, weights_only=True)["model"]
    del state["enc_q.proj.bias"]
    torch.save({"model": state}, tmp_path / "cut.pth")
    with pytest.raises(TrainingCheckpointError, match=r"missing 1 \(enc_q.proj.bias\)"):
        load_pretrained(tmp_path / "cut.pth", discriminator)
    v1 = export_payload(random_synthesizer(_v1_config(), quick=True))["weight"]
    torch.save({"model": v1}, tmp_path / "v1.pth")
    with pytest.raises(TrainingCheckpointError, match="v1"):
        load_pretrained(tmp_path / "v1.pth", discriminator)
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(TrainingCheckpointError, match="could not read"):
        load_pretrained(tmp_path / "junk.pth", discriminator)


def _v1_config() -> object:
    from tests.checkpoints.rvc import small_values, synthesizer_config

    return synthesizer_config(small_values("v1", 40_000), "v1", True)


def test_batches_cover_every_segment_once_in_windows_of_equal_length(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    writer = TrainingSetWriter(tmp_path / "set", "lengths")
    lengths = [20, 40, 45, 64, 90, 100, 130, 300, 600, 33, 70]
    for frames in lengths:
        pitch = np.full(frames, 150.0, dtype=np.float32)
        writer.add(
            Segment(
                audio=rng.standard_normal(frames * HOP).astype(np.float32) * 0.1,
                features=rng.standard_normal((frames, 768)).astype(np.float32),
                pitch_hz=pitch,
                coarse=np.full(frames, 50, dtype=np.int64),
            )
        )
    bank = SegmentBank(writer.finish(), min_frames=32)
    assert len(bank) == len(lengths) - 1  # the 20-frame segment is too short
    generator = torch.Generator().manual_seed(0)
    batches = bank.epoch_batches(3, generator)
    assert sorted(index for batch in batches for index in batch) == list(range(len(bank)))
    assert len(batches) == -(-len(bank) // 3)
    item = bank.batch(batches[0], generator, "cpu")
    frames = item.batch.features.shape[1]
    assert 32 <= frames <= min(bank.frames(index) for index in batches[0])
    assert item.batch.spec.shape == (len(batches[0]), SPEC_CHANNELS, frames)
    assert item.audio.shape == (len(batches[0]), frames * HOP)
    longest = max(range(len(bank)), key=bank.frames)
    assert bank.window_frames([longest]) == 512  # capped: 600 frames are more than needed
