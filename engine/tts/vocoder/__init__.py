"""Streaming S3Gen: a request's speech tokens become audio in overlapping pieces while
they are still being produced, several requests' pieces batched together (issue 12).

On the worker thread, after each decode step::

    ready = [r for r in active if r.stream.wants_piece(len(r.tokens), r.finished)]
    jobs = [(r.stream, r.tokens, r.finished) for r in ready]
    for r, audio in zip(ready, vocode_pieces(s3gen, jobs)):
        ...  # watermark and play ``audio``: new 24 kHz float32 samples, maybe empty

Each stream's arrays, concatenated up to and including its finished call, are the whole
utterance; ``stream.done`` is then True. How pieces are cut and joined: see
:mod:`engine.tts.vocoder.stream` and :class:`StreamSchedule`.
"""

from __future__ import annotations

from engine.tts.vocoder.pieces import Job, vocode_pieces
from engine.tts.vocoder.schedule import StreamSchedule
from engine.tts.vocoder.stream import S3GenStream

__all__ = ["Job", "S3GenStream", "StreamSchedule", "vocode_pieces"]
