"""When a streamed utterance is decoded, and how much its pieces overlap."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StreamSchedule:
    """The sizes that shape one request's pieces (speech tokens: 25 per second; mel frames:
    2 per token, 20 ms each).

    What a piece may not turn into audio yet, it holds back for the next one: the last
    3 tokens (S3Gen's encoder looks 3 tokens ahead), then ``overlap_tokens`` of mel that
    the next piece decodes again and cross-fades, then ``vocoder_context_frames`` of mel
    the vocoder needs to its right. With the defaults the first piece, made from 25
    tokens, gives 0.64 s of audio; the finished call flushes everything.
    """

    first_tokens: int = 25
    """The first piece once this many tokens exist (~1 s), or once the first piece would
    have any audio if that takes more (10 tokens with the defaults)."""
    piece_tokens: int = 50
    """Later pieces every this many new tokens."""
    context_tokens: int = 50
    """Tokens already decoded that each later piece sees again, with their mel, as a
    continuation of the reference prompt (CosyVoice-style prompt continuation). This is
    the context bound: a piece costs O(reference prompt + context_tokens + its own tokens),
    whatever the utterance's length."""
    overlap_tokens: int = 2
    """Tokens at the end of each piece whose mel stays provisional: the next piece decodes
    them again, now with context on their right, and cross-fades from the old mel to the
    new one over these frames (0: no cross-fade, the next piece just continues)."""
    vocoder_context_frames: int = 8
    """Mel frames the vocoder (HiFT) sees on each side of the audio it emits: already
    voiced frames on the left, frames held back until the next piece on the right, and
    zero frames after the utterance's end. Its receptive field spans about ±12 frames, but
    what lies 8 frames away changes the output by less than 1e-6 (measured), so pieces
    join like one call and batched rows match lone ones."""
    reference_tokens: int | None = None
    """Condition every piece on only the last this many tokens of the reference prompt
    (and their mel): cheaper pieces with a long reference, at some cost in likeness.
    None keeps the whole prompt, as one-shot decoding does."""

    def __post_init__(self) -> None:
        if self.first_tokens < 1 or self.piece_tokens < 1:
            raise ValueError("first_tokens and piece_tokens must be at least 1")
        if self.context_tokens < 0 or self.overlap_tokens < 0:
            raise ValueError("context_tokens and overlap_tokens cannot be negative")
        if self.vocoder_context_frames < 0:
            raise ValueError("vocoder_context_frames cannot be negative")
        if self.reference_tokens is not None and self.reference_tokens < 1:
            raise ValueError("reference_tokens must be at least 1 (None keeps all)")
