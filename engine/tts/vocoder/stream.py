"""One request's audio, decoded in pieces as its speech tokens arrive.

A piece is two calls, each batched across streams by :func:`vocode_pieces`:

1. **Flow (tokens -> mel).** The new tokens are decoded as a continuation of a prompt:
   the reference's tokens and mel, then up to ``context_tokens`` already decoded tokens
   with their final mel, so a piece costs O(reference + context + piece), never
   O(utterance). Unless the request has finished, the last 3 tokens only feed the
   encoder's look-ahead, and the last ``overlap_tokens`` of the new mel stay provisional:
   the next piece decodes them again with more context and cross-fades into them.
2. **Vocoder (mel -> audio).** HiFT runs on a window of final mel with
   ``vocoder_context_frames`` on either side of the audio it emits and a source whose
   noise and phase depend on the sample's position alone, so consecutive windows join
   as one call would (see :mod:`engine.tts.vocoder.hift`).

Start noise of the flow is drawn per mel frame position from the stream's seed, so the
same tokens, reference and seed give the same audio, however the pieces fall.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from engine.tts.vocoder.flow import FlowRow
from engine.tts.vocoder.hift import VocoderOutput, VocoderRow, harmonic_count, samples_per_frame
from engine.tts.vocoder.noise import (
    MEL_DOMAIN,
    REFERENCE_DOMAIN,
    SOURCE_DOMAIN,
    PositionalNoise,
    harmonic_phases,
)
from engine.tts.vocoder.schedule import StreamSchedule

SPEECH_TOKEN_LIMIT = 6561
"""Tokens at or above this are special (start, stop, padding), not speech."""
EMPTY_UTTERANCE_SECONDS = 0.1
"""What a request that finished without a single token sounds like: a short pause."""
DEFAULT_SCHEDULE = StreamSchedule()
_MEL_CHANNELS = 80
_NOISE_BLOCK_FRAMES = 50


@dataclass(frozen=True, slots=True)
class _Reference:
    tokens: Tensor  # (P,) long
    mel: Tensor  # (80, ratio * P)
    embedding: Tensor  # (192,)
    noise: Tensor  # (80, ratio * P)


class S3GenStream:
    """One request's audio, decoded in pieces as its speech tokens arrive (worker thread only).

    Feed it through :func:`engine.tts.vocoder.vocode_pieces` with all tokens so far each
    time; ask :meth:`wants_piece` when that is worth doing. ``ref_dict`` is S3Gen's
    reference (``embed_ref``'s output: ``prompt_token``, ``prompt_feat``, ``embedding``);
    ``steps`` the flow's solver steps (None: 10, or 2 for Turbo's mean-flow decoder).
    """

    def __init__(
        self,
        s3gen: Any,
        ref_dict: dict,
        *,
        steps: int | None,
        seed: int,
        schedule: StreamSchedule = DEFAULT_SCHEDULE,
    ) -> None:
        self.s3gen = s3gen
        self.schedule = schedule
        self.seed = seed
        self.meanflow = bool(getattr(s3gen, "meanflow", False))
        self.steps = steps if steps is not None else (2 if self.meanflow else 10)
        if self.steps < 1:
            raise ValueError("steps must be at least 1")
        self.lookahead = int(s3gen.flow.pre_lookahead_len)
        self.ratio = int(s3gen.flow.token_mel_ratio)
        self.hop = samples_per_frame(s3gen)
        self.sample_rate = int(s3gen.mel2wav.sampling_rate)
        overlap = self.ratio * schedule.overlap_tokens
        # The fewest tokens whose piece has audio to give: some frames must remain after
        # the look-ahead tokens, the overlap and the vocoder's right context come off.
        held_frames = overlap + schedule.vocoder_context_frames
        fewest = self.lookahead + held_frames // self.ratio + 1
        self._overlap = overlap
        self._context = schedule.vocoder_context_frames
        self._history_frames = max(self.ratio * schedule.context_tokens, 2 * self._context)
        self._mel_noise = PositionalNoise(seed, MEL_DOMAIN, _MEL_CHANNELS, _NOISE_BLOCK_FRAMES)
        self._harmonics = harmonic_count(s3gen)
        self._source_noise = PositionalNoise(
            seed, SOURCE_DOMAIN, self._harmonics, self.hop * _NOISE_BLOCK_FRAMES
        )
        self._offsets = harmonic_phases(seed, self._harmonics)
        self._reference = self._take_reference(ref_dict, seed)
        self._tokens: list[int] = []
        self._final_frames = 0
        self._pending = torch.zeros(_MEL_CHANNELS, 0)
        self._history = torch.zeros(_MEL_CHANNELS, 0)
        self._audio_frames = 0
        self._phase = torch.zeros(self._harmonics, dtype=torch.float64)
        self._next_piece_at = max(schedule.first_tokens, fewest)
        self._done = False

    def _take_reference(self, ref_dict: dict, seed: int) -> _Reference:
        tokens = torch.as_tensor(ref_dict["prompt_token"]).detach().reshape(-1).long().cpu()
        mel = torch.as_tensor(ref_dict["prompt_feat"]).detach().reshape(-1, _MEL_CHANNELS)
        mel = mel.float().cpu()
        count = min(tokens.numel(), mel.size(0) // self.ratio)
        if self.schedule.reference_tokens is not None:
            count = min(count, self.schedule.reference_tokens)
        tokens = tokens[tokens.numel() - count :]
        mel = mel[mel.size(0) - self.ratio * count :].T.contiguous()
        embedding = torch.as_tensor(ref_dict["embedding"]).detach().reshape(-1).float().cpu()
        noise = PositionalNoise(seed, REFERENCE_DOMAIN, _MEL_CHANNELS, _NOISE_BLOCK_FRAMES)
        return _Reference(tokens, mel, embedding, noise.normal(0, mel.size(1)))

    # progress ---------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """The final piece has been produced."""
        return self._done

    @property
    def emitted_samples(self) -> int:
        """Audio samples handed out so far."""
        return self._audio_frames * self.hop

    def wants_piece(self, token_count: int, finished: bool) -> bool:
        """Whether enough new tokens exist for the next piece (always True once finished
        and not yet flushed)."""
        if self._done:
            return False
        return finished or token_count >= self._next_piece_at

    # the piece's steps, driven by vocode_pieces ------------------------------------------
    def _check_tokens(self, tokens: Sequence[int]) -> None:
        """Raise ValueError, changing nothing, if ``tokens`` cannot be this stream's next."""
        if self._done:
            raise ValueError("this stream has already produced its final piece")
        if len(tokens) < len(self._tokens):
            raise ValueError(
                f"the stream had {len(self._tokens)} tokens, now only {len(tokens)}: "
                "pass all tokens so far each time"
            )
        if any(not 0 <= int(token) < SPEECH_TOKEN_LIMIT for token in tokens[len(self._tokens) :]):
            raise ValueError(f"speech tokens must lie in [0, {SPEECH_TOKEN_LIMIT})")

    def _accept_tokens(self, tokens: Sequence[int]) -> None:
        self._tokens.extend(int(token) for token in tokens[len(self._tokens) :])

    def _flow_row(self, finished: bool) -> FlowRow | None:
        """The flow call this piece needs, or None when no new mel is due."""
        start = self._final_frames // self.ratio
        voiced_end = len(self._tokens) if finished else len(self._tokens) - self.lookahead
        frames = self.ratio * (voiced_end - start)
        new_final = frames if finished else frames - self._overlap
        if frames <= 0 or new_final <= 0:
            return None
        self._next_piece_at = len(self._tokens) + self.schedule.piece_tokens
        context = min(self.schedule.context_tokens, start, self._history.size(1) // self.ratio)
        context_mel = self._history[:, self._history.size(1) - self.ratio * context :]
        reference = self._reference
        first = self.ratio * (start - context)
        noise = torch.cat(
            [reference.noise, self._mel_noise.normal(first, self.ratio * voiced_end)], dim=1
        )
        return FlowRow(
            prompt_tokens=torch.cat(
                [reference.tokens, torch.tensor(self._tokens[start - context : start])]
            ),
            prompt_mel=torch.cat([reference.mel, context_mel.cpu().float()], dim=1),
            tokens=torch.tensor(self._tokens[start:]),
            frames=frames,
            embedding=reference.embedding,
            noise=noise,
        )

    def _accept_mel(self, mel: Tensor | None, finished: bool) -> VocoderRow | None:
        """Fold a flow result into the final mel; the vocoder window now due, if any."""
        if mel is not None:
            mel = mel.detach().float().cpu()
            pending = self._pending.size(1)
            if pending:
                weight = 0.5 - 0.5 * torch.cos(
                    torch.pi * torch.arange(1, pending + 1) / (pending + 1)
                )
                mel[:, :pending] = (1 - weight) * self._pending + weight * mel[:, :pending]
            keep = mel.size(1) if finished else mel.size(1) - self._overlap
            self._history = torch.cat([self._history, mel[:, :keep]], dim=1)
            self._pending = mel[:, keep:]
            self._final_frames += keep
        if finished and self._pending.size(1):  # an utterance too short for new mel
            self._history = torch.cat([self._history, self._pending], dim=1)
            self._final_frames += self._pending.size(1)
            self._pending = self._pending[:, :0]
        emit_end = self._final_frames if finished else self._final_frames - self._context
        emit = emit_end - self._audio_frames
        if emit <= 0:
            return None
        left = min(self._context, self._audio_frames)
        window_start = self._audio_frames - left
        history_start = self._final_frames - self._history.size(1)
        margin = self._context if finished else 0
        window = self._history[:, window_start - history_start :]
        first_sample = window_start * self.hop
        return VocoderRow(
            mel=window,
            anchor=left,
            emit=emit,
            margin=margin,
            phase=self._phase,
            offsets=self._offsets,
            noise=self._source_noise.normal(
                first_sample, first_sample + (window.size(1) + margin) * self.hop
            ),
        )

    def _accept_audio(self, output: VocoderOutput | None, finished: bool) -> np.ndarray:
        """The audio to hand out, with Chatterbox's fade-in at the utterance's start."""
        if output is None:
            audio = np.zeros(0, dtype=np.float32)
            if finished and not self._tokens and not self._audio_frames:
                audio = np.zeros(round(EMPTY_UTTERANCE_SECONDS * self.sample_rate), np.float32)
        else:
            start = self._audio_frames * self.hop
            audio = output.audio.detach().cpu().numpy().astype(np.float32, copy=True)
            fade = self.s3gen.trim_fade
            if start < fade.numel():
                covered = min(fade.numel() - start, audio.size)
                audio[:covered] *= fade[start : start + covered].float().cpu().numpy()
            self._audio_frames += audio.size // self.hop
            self._phase = output.phase.double()
        self._history = self._history[:, max(0, self._history.size(1) - self._history_frames) :]
        if finished:
            self._done = True
        return audio
