"""Continuous batching of speech: every server's sentences share one decode step.

``SpeechScheduler.speak`` admits a text (or answers at once that the engine is busy
when ``max_batch`` texts are being spoken), makes sure one executor job is decoding,
and yields the text's audio as the job hands it over: the first piece of a sentence
after ``first_audio_tokens`` speech tokens, before the sentence is finished.

The decoding job runs at speech priority for as long as any sentence is left. Enrolment,
cover and training pieces run between texts, and also while texts go on whenever every
listener has more audio ahead of playback than the longest such piece has taken: then the
job steps aside for one piece at most every :data:`STEP_ASIDE_EVERY_S` (a GPU making
speech faster than real time leaves room; a CPU slower than real time never does). A text
that arrives while one of their pieces runs waits for that piece (``bench/concurrency.py``
reports how long); one that arrives while the job runs joins the batch at the next step.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import AsyncGenerator
from concurrent.futures import Future
from typing import Any

from engine.executor import CancelToken, GpuExecutor, JobCancelledError, Priority
from engine.speech.batch import SpeechBatch
from engine.speech.chunks import SpeechChunk, next_chunk
from engine.speech.serial import SpeechWorker
from engine.speech.utterance import SEED_SPACE, Utterance
from engine.tts.backend import BatchedSpeechBackend
from engine.tts.decode.params import DecoderBusyError
from engine.tts.params import SpeechParams
from engine.tts.profile import VoiceProfile

STEP_ASIDE_EVERY_S = 4.0
"""The least decoding between two pieces of other work run in the middle of speech."""
UNKNOWN_PIECE_S = 2.0
"""What a piece of other work is assumed to take before one has been timed."""
LEAD_MARGIN_S = 0.5
"""Audio every listener keeps beyond the piece's length when the job steps aside."""


class SpeechScheduler:
    """Admits texts, keeps one decoding job on the executor, streams each text's audio."""

    def __init__(
        self,
        worker: SpeechWorker,
        backend: BatchedSpeechBackend,
        *,
        max_batch: int,
        first_audio_tokens: int,
    ) -> None:
        if max_batch < 1 or first_audio_tokens < 1:
            raise ValueError("max_batch and first_audio_tokens must be positive")
        self.worker = worker
        self.executor: GpuExecutor = worker.executor
        self.max_batch = max_batch
        self._batch = SpeechBatch(
            self._loaded_backend,
            self._conditionals,
            max_requests=max_batch,
            first_audio_tokens=first_audio_tokens,
            sample_rate=worker.backend.sample_rate,
        )
        self._speaking: set[Utterance] = set()
        self._lock = threading.Lock()
        self._job_queued = False
        self._decoding_since = 0.0
        """When the running job began decoding, or last stepped aside (worker thread)."""
        worker.on_unload(self._batch.forget_decoder)
        self._backend = backend

    @property
    def speaking(self) -> int:
        """Texts admitted and not yet finished (event loop)."""
        return len(self._speaking)

    async def speak(
        self, profile: VoiceProfile, pieces: list[str], params: SpeechParams
    ) -> AsyncGenerator[SpeechChunk, None]:
        """The text's audio, chunk by chunk; closing the generator cancels the rest."""
        if len(self._speaking) >= self.max_batch:
            raise DecoderBusyError(
                f"the speech decoder is full ({self.max_batch} texts); try again later"
            )
        seed = secrets.randbelow(SEED_SPACE) if params.seed is None else params.seed
        loop = asyncio.get_running_loop()
        utterance = Utterance(profile, pieces, params, seed=seed, loop=loop)
        self._speaking.add(utterance)
        try:
            self._batch.add(utterance)
            self._ensure_decoding()
            while (chunk := await next_chunk(utterance.chunks)) is not None:
                yield chunk
        finally:
            utterance.cancel()
            self._speaking.discard(utterance)

    # the decoding job ------------------------------------------------------------------------
    def _ensure_decoding(self) -> None:
        """Queue the decoding job unless it is queued or running (any thread)."""
        with self._lock:
            if self._job_queued:
                return
            self._executor_submit()
            self._job_queued = True

    def _executor_submit(self, behind: Priority | None = None) -> None:
        future, _ = self.executor.submit(
            self._decode, priority=Priority.SPEECH, label="speech batch", behind=behind
        )
        future.add_done_callback(self._job_done)

    def _job_done(self, future: Future[None]) -> None:
        """A job dropped before it ran (the engine shut down) strands nobody."""
        if future.cancelled():
            with self._lock:
                self._job_queued = False
            self._batch.fail_all(JobCancelledError("the engine is shutting down"))

    def _decode(self, token: CancelToken) -> None:
        aside: Priority | None = None
        self._decoding_since = time.monotonic()
        try:
            aside = self._batch.run(token, self._room_for_other_work)
        finally:
            with self._lock:
                self._job_queued = False
                if self._batch.has_work() and not token.cancelled:
                    # Texts go on after one piece of other work, or a text arrived after
                    # the job's last look at the queue.
                    try:
                        self._executor_submit(behind=aside)
                    except Exception as error:  # a full queue or a shutdown
                        self._batch.fail_all(error)
                    else:
                        self._job_queued = True

    def _room_for_other_work(self) -> Priority | None:
        """The priority of other work to let run now, if every listener can spare it."""
        if time.monotonic() - self._decoding_since < STEP_ASIDE_EVERY_S:
            return None
        waiting = self.executor.waiting_behind(Priority.SPEECH)
        if waiting is None:
            return None
        piece = self.executor.longest_job.get(waiting, UNKNOWN_PIECE_S)
        if self._batch.least_lead() < piece + LEAD_MARGIN_S:
            return None
        return waiting

    def _loaded_backend(self) -> BatchedSpeechBackend:
        """The backend with weights on the device; a backend unloaded behind the slot's
        back loads again (or says why it cannot) and gets a new decoder."""
        backend = self.worker.loaded_backend()
        if not backend.loaded:
            self._batch.forget_decoder()
            backend.load()
        return self._backend

    def _conditionals(self, backend: BatchedSpeechBackend, utterance: Utterance) -> Any:
        return self.worker.conditionals(utterance.profile)
