"""RVC's training losses: mel L1, KL between posterior and prior, LSGAN, feature matching.

Every loss is computed in float32, whatever precision the networks ran in.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

MEL_WEIGHT = 45.0
KL_WEIGHT = 1.0
FEATURE_MATCHING_WEIGHT = 2.0


def mel_loss(real_mel: torch.Tensor, fake_mel: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.l1_loss(fake_mel.float(), real_mel.float()) * MEL_WEIGHT


def kl_loss(
    z_p: torch.Tensor, log_scale_q: torch.Tensor, mean_p: torch.Tensor, log_scale_p: torch.Tensor
) -> torch.Tensor:
    """KL(q || p) at the posterior sample mapped through the flow (z_p).

    Summed over channels, averaged over batch and frames (as RVC's masked sum does).
    """
    z_p, log_scale_q = z_p.float(), log_scale_q.float()
    mean_p, log_scale_p = mean_p.float(), log_scale_p.float()
    kl = log_scale_p - log_scale_q - 0.5
    kl = kl + 0.5 * (z_p - mean_p) ** 2 * torch.exp(-2.0 * log_scale_p)
    return kl.sum(dim=1).mean() * KL_WEIGHT


def discriminator_loss(
    real_scores: Sequence[torch.Tensor], fake_scores: Sequence[torch.Tensor]
) -> torch.Tensor:
    """LSGAN: real toward 1, generated toward 0, summed over the sub-discriminators."""
    total = torch.zeros((), device=real_scores[0].device)
    for real, fake in zip(real_scores, fake_scores, strict=True):
        total = total + torch.mean((1 - real.float()) ** 2) + torch.mean(fake.float() ** 2)
    return total


def generator_loss(fake_scores: Sequence[torch.Tensor]) -> torch.Tensor:
    """LSGAN: the generator wants every sub-discriminator to say 1."""
    total = torch.zeros((), device=fake_scores[0].device)
    for fake in fake_scores:
        total = total + torch.mean((1 - fake.float()) ** 2)
    return total


def feature_matching_loss(
    real_maps: Sequence[Sequence[torch.Tensor]], fake_maps: Sequence[Sequence[torch.Tensor]]
) -> torch.Tensor:
    """L1 between the discriminators' hidden activations on real and generated audio."""
    total = torch.zeros((), device=real_maps[0][0].device)
    for real_layers, fake_layers in zip(real_maps, fake_maps, strict=True):
        for real, fake in zip(real_layers, fake_layers, strict=True):
            total = total + torch.mean(torch.abs(real.float().detach() - fake.float()))
    return total * FEATURE_MATCHING_WEIGHT
