"""S3Gen's token-to-mel flow for several rows at once, each with its own prompt.

Chatterbox's ``CausalMaskedDiffWithXvec.inference`` takes one prompt length for the whole
batch and draws its start noise from the global RNG. Here each row brings its own prompt
(the reference's tokens and mel, then the utterance's already decoded context) and its
own start noise, and rows of different lengths share one padded, masked call. The model's
modules and weights do all the work; only the orchestration is Parrot's: the encoder's
steps (so that padding reads as zeros to its look-ahead convolution, as past the end of a
lone row) and the Euler solver (classifier-free guidance for the regular decoder, plain
mean-flow steps for Turbo's), in the library's own order.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as functional
from torch import Tensor


@dataclass(frozen=True, slots=True)
class FlowRow:
    """One row of a flow call: a prompt to continue, and tokens to turn into mel."""

    prompt_tokens: Tensor
    """(P,) long: the reference's tokens, then the context tokens already decoded."""
    prompt_mel: Tensor
    """(80, ratio * P): their mel, which the new frames continue."""
    tokens: Tensor
    """(N,) long: the tokens to voice, then any look-ahead tokens the encoder only reads."""
    frames: int
    """Mel frames to generate: ratio x the voiced tokens (the look-ahead ones get none)."""
    embedding: Tensor
    """(192,) the speaker's x-vector."""
    noise: Tensor
    """(80, ratio * P + frames) the start noise, prompt frames included."""


def generate_mel(s3gen: Any, rows: Sequence[FlowRow], steps: int) -> list[Tensor]:
    """Each row's new mel, (80, row.frames), from one batched encoder call and ``steps``
    solver steps. Rows are right-padded; the padding never reaches a row's own frames."""
    flow = s3gen.flow
    device, dtype = s3gen.device, s3gen.dtype
    ratio = int(flow.token_mel_ratio)
    prompt_frames = [ratio * row.prompt_tokens.numel() for row in rows]
    token_lengths = [row.prompt_tokens.numel() + row.tokens.numel() for row in rows]
    decoded = [p + row.frames for p, row in zip(prompt_frames, rows, strict=True)]
    batch, longest, frames = len(rows), max(token_lengths), max(decoded)

    tokens = torch.zeros(batch, longest, dtype=torch.long, device=device)
    cond = torch.zeros(batch, 80, frames, dtype=dtype, device=device)
    noise = torch.zeros(batch, 80, frames, dtype=dtype, device=device)
    for index, row in enumerate(rows):
        prompt = row.prompt_tokens.numel()
        tokens[index, :prompt] = row.prompt_tokens.to(device)
        tokens[index, prompt : token_lengths[index]] = row.tokens.to(device)
        cond[index, :, : prompt_frames[index]] = row.prompt_mel.to(device, dtype)
        noise[index, :, : decoded[index]] = row.noise.to(device, dtype)
    lengths = torch.tensor(token_lengths, device=device)
    valid = torch.arange(longest, device=device)[None, :] < lengths[:, None]
    embedded = flow.input_embedding(tokens) * valid.unsqueeze(-1).to(dtype)
    hidden = encode(flow.encoder, embedded, lengths)[:, :frames]
    mu = flow.encoder_proj(hidden).transpose(1, 2)
    mask = (
        torch.arange(frames, device=device)[None, :] < torch.tensor(decoded, device=device)[:, None]
    )
    mask = mask.unsqueeze(1).to(dtype)
    embeddings = torch.stack([row.embedding.reshape(-1).to(device, dtype) for row in rows])
    speakers = flow.spk_embed_affine_layer(functional.normalize(embeddings, dim=1))
    meanflow = bool(getattr(s3gen, "meanflow", False))
    mel = solve(flow.decoder, noise, mu * mask, mask, speakers, cond, steps, meanflow=meanflow)
    return [
        mel[index, :, p : p + row.frames].to(dtype)
        for index, (p, row) in enumerate(zip(prompt_frames, rows, strict=True))
    ]


def encode(encoder: Any, embedded: Tensor, lengths: Tensor) -> Tensor:
    """``UpsampleConformerEncoder.forward`` for right-padded rows: (B, T, 512) token
    embeddings -> (B, 2T, 512). The one change: padded positions are zeroed before the
    pre-look-ahead convolution, which reads 3 positions ahead, so a row's last tokens see
    zeros there whether the row is padded or alone (as the library's zero padding gives)."""
    if encoder.global_cmvn is not None or encoder.static_chunk_size or encoder.use_dynamic_chunk:
        raise NotImplementedError("S3Gen encoders with chunked attention are not supported")
    length = embedded.size(1)
    valid = (torch.arange(length, device=embedded.device)[None, :] < lengths[:, None]).unsqueeze(1)
    hidden, positions, masks = encoder.embed(embedded, valid)
    hidden = encoder.pre_lookahead_layer(hidden * valid.transpose(1, 2).to(hidden.dtype))
    hidden = encoder.forward_layers(hidden, masks, positions, masks)
    upsampled, up_lengths = encoder.up_layer(hidden.transpose(1, 2).contiguous(), lengths)
    hidden = upsampled.transpose(1, 2).contiguous()
    up_length = hidden.size(1)
    up_valid = torch.arange(up_length, device=hidden.device)[None, :] < up_lengths[:, None]
    hidden, positions, masks = encoder.up_embed(hidden, up_valid.unsqueeze(1))
    hidden = encoder.forward_up_layers(hidden, masks, positions, masks)
    if encoder.normalize_before:
        hidden = encoder.after_norm(hidden)
    return hidden  # type: ignore[no-any-return]  # torch modules are untyped here


def solve(
    decoder: Any,
    noise: Tensor,
    mu: Tensor,
    mask: Tensor,
    speakers: Tensor,
    cond: Tensor,
    steps: int,
    *,
    meanflow: bool,
) -> Tensor:
    """Euler steps from ``noise`` to mel with the decoder's estimator, as
    ``CausalConditionalCFM`` does: a cosine time schedule and classifier-free guidance
    (rate ``inference_cfg_rate``, the unguided half with mu, speaker and prompt zeroed) for
    the regular decoder; linear time and no guidance for a distilled mean-flow decoder."""
    estimator = decoder.estimator
    dtype = estimator.dtype
    x, mu, mask, speakers, cond = (t.to(dtype) for t in (noise, mu, mask, speakers, cond))
    batch = x.size(0)
    times = torch.linspace(0, 1, steps + 1, device=x.device, dtype=noise.dtype)
    if not meanflow and decoder.t_scheduler == "cosine":
        times = 1 - torch.cos(times * 0.5 * math.pi)
    times = times.to(dtype)
    if meanflow:
        for start, end in itertools.pairwise(times):
            velocity = estimator.forward(
                x=x,
                mask=mask,
                mu=mu,
                t=start.expand(batch),
                spks=speakers,
                cond=cond,
                r=end.expand(batch),
            )
            x = x + (end - start) * velocity
        return x
    rate = float(decoder.inference_cfg_rate)
    masks = torch.cat([mask, mask])
    mus = torch.cat([mu, torch.zeros_like(mu)])
    both_speakers = torch.cat([speakers, torch.zeros_like(speakers)])
    conds = torch.cat([cond, torch.zeros_like(cond)])
    for start, end in itertools.pairwise(times):
        velocity = estimator.forward(
            x=torch.cat([x, x]),
            mask=masks,
            mu=mus,
            t=start.expand(2 * batch),
            spks=both_speakers,
            cond=conds,
            r=None,
        )
        guided, unguided = velocity.split(batch)
        x = x + (end - start) * ((1.0 + rate) * guided - rate * unguided)
    return x
