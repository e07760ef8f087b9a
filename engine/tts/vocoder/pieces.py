"""Several streams' pieces as one batched flow call and one batched vocoder call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from engine.tts.vocoder.flow import FlowRow, generate_mel
from engine.tts.vocoder.hift import VocoderOutput, VocoderRow, vocode
from engine.tts.vocoder.stream import S3GenStream

Job = tuple[S3GenStream, Sequence[int], bool]
"""(stream, all of its tokens so far, whether they are complete)."""


def vocode_pieces(
    s3gen: Any, jobs: Sequence[Job], *, batched: bool | None = None
) -> list[np.ndarray]:
    """For each (stream, all tokens so far, finished) the *new* audio (float32 mono,
    24 kHz, not watermarked) that is final now, in the order of ``jobs``.

    Batched, the flow runs once for all rows that share a step count (padded, masked) and
    the vocoder once for all windows; otherwise each job runs alone. ``batched=None``
    batches except on the CPU, where ``bench/vocoder.py`` measured batching no faster (the
    CPU is compute-bound either way, and padding rows to the longest costs extra work);
    a GPU runs a small piece far below its capacity, so rows share its calls. A row's
    result does not depend on its company (within 1e-6 of the audio's scale).

    A job with nothing due yet gets an empty array; a finished stream without a single
    token gets a short silence. Concatenating every array a stream gets, up to and
    including its finished call, gives the whole utterance.
    """
    streams = [stream for stream, _, _ in jobs]
    if len({id(stream) for stream in streams}) != len(streams):
        raise ValueError("a stream can take part only once in a call")
    if any(stream.s3gen is not s3gen for stream in streams):
        raise ValueError("every stream must use the S3Gen given to vocode_pieces")
    if batched is None:
        batched = torch.device(s3gen.device).type != "cpu"
    if not batched and len(jobs) > 1:
        return [vocode_pieces(s3gen, [job], batched=True)[0] for job in jobs]
    with torch.inference_mode():
        for stream, tokens, _ in jobs:
            stream._check_tokens(tokens)
        for stream, tokens, _ in jobs:
            stream._accept_tokens(tokens)
        flow_rows = [stream._flow_row(finished) for stream, _, finished in jobs]
        mels = _flow_by_steps(s3gen, streams, flow_rows)
        vocoder_rows = [
            stream._accept_mel(mel, finished)
            for (stream, _, finished), mel in zip(jobs, mels, strict=True)
        ]
        outputs = _vocode_present(s3gen, vocoder_rows)
        return [
            stream._accept_audio(output, finished)
            for (stream, _, finished), output in zip(jobs, outputs, strict=True)
        ]


def _flow_by_steps(
    s3gen: Any, streams: Sequence[S3GenStream], rows: Sequence[FlowRow | None]
) -> list[Tensor | None]:
    """One flow call per distinct solver step count (rows must share their time steps)."""
    mels: list[Tensor | None] = [None] * len(rows)
    due = [
        (index, stream.steps, row)
        for index, (stream, row) in enumerate(zip(streams, rows, strict=True))
        if row is not None
    ]
    for steps in sorted({steps for _, steps, _ in due}):
        group = [(index, row) for index, row_steps, row in due if row_steps == steps]
        results = generate_mel(s3gen, [row for _, row in group], steps)
        for (index, _), mel in zip(group, results, strict=True):
            mels[index] = mel
    return mels


def _vocode_present(s3gen: Any, rows: Sequence[VocoderRow | None]) -> list[VocoderOutput | None]:
    present = [index for index, row in enumerate(rows) if row is not None]
    outputs: list[VocoderOutput | None] = [None] * len(rows)
    if present:
        results = vocode(s3gen, [row for row in rows if row is not None])
        for index, output in zip(present, results, strict=True):
            outputs[index] = output
    return outputs
