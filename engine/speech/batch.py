"""The worker thread's side of batched speech: every active sentence in one decoder.

:meth:`SpeechBatch.run` is the body of the scheduler's executor job. Each turn it lets
waiting sentences join (their prompts run), drops cancelled ones, runs one decode step
for all of them, turns tokens that make a piece into audio (several sentences' pieces
in one vocoder call), watermarks and hands that audio over, and queues each finished
sentence's successor. It returns when nothing is left to decode.

A failure that belongs to one sentence (its voice, its language) ends that utterance
only; a failure of the shared step ends every utterance in the batch and the decoder is
rebuilt for the next one.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from engine.executor import CancelToken, JobCancelledError, Priority
from engine.speech.utterance import Sentence, Utterance
from engine.tts.backend import BatchedSpeechBackend, SpeechDecoder, VocodeJob
from engine.tts.decode.params import DecoderBusyError, StepOutput
from engine.tts.params import token_budget
from engine.tts.postprocess import trim_trailing_noise

log = logging.getLogger(__name__)

STREAM_LEAD_SECONDS = 2.0
"""A sentence is vocoded in pieces only while its listener has less audio than this
waiting; with more, it is vocoded once, when finished (pieces cost about twice as much
S3Gen work, mostly the voice's reference prompt again in every piece)."""
MAX_SENTENCE_POSITIONS = 1500
"""A sentence's prompt (voice conditioning about 152, text at most about 302 for a 300-
character piece, start tokens) plus its speech-token budget (at most 1000)."""


class SpeechBatch:
    """Sentences in the decoder and utterances waiting to join (worker thread, except
    :meth:`add` and :meth:`has_work`, which any thread may call)."""

    def __init__(
        self,
        backend_source: Callable[[], BatchedSpeechBackend],
        conditionals_source: Callable[[BatchedSpeechBackend, Utterance], object],
        *,
        max_requests: int,
        first_audio_tokens: int,
        sample_rate: int,
    ) -> None:
        self._backend_source = backend_source
        self._conditionals = conditionals_source
        self.max_requests = max_requests
        self._first_audio_tokens = first_audio_tokens
        self._sample_rate = sample_rate
        self._lock = threading.Lock()
        self._waiting: deque[Utterance] = deque()
        self._active: dict[int, Sentence] = {}
        self._decoder: SpeechDecoder | None = None
        self._decoder_backend: BatchedSpeechBackend | None = None

    # any thread ------------------------------------------------------------------------------
    def add(self, utterance: Utterance) -> None:
        with self._lock:
            self._waiting.append(utterance)

    def has_work(self) -> bool:
        with self._lock:
            return bool(self._waiting or self._active)

    def forget_decoder(self) -> None:
        """The model was unloaded: build a new decoder with the next job (worker thread,
        between jobs: no sentence is in the decoder then)."""
        self._decoder = None
        self._decoder_backend = None

    # worker thread ---------------------------------------------------------------------------
    def run(
        self, token: CancelToken, step_aside: Callable[[], Priority | None] | None = None
    ) -> Priority | None:
        """Decode until no sentence is left (or the engine shuts down). ``step_aside()`` is
        asked after every step: when it names a priority the run stops early and returns it
        (the sentences stay in the batch, and the next run goes on with them)."""
        try:
            backend = self._backend_source()
            decoder = self._decoder_for(backend)
        except Exception as error:  # the model did not load (missing weights, memory)
            self.fail_all(error)
            return None
        while True:
            if token.cancelled:
                self.fail_all(JobCancelledError("the engine is shutting down"))
                return None
            self._drop_cancelled(decoder)
            self._join_waiting(backend, decoder)
            if not self._active:
                return None
            try:
                output = decoder.step()
            except Exception as error:  # the shared step failed: nobody's sentence goes on
                log.exception("a speech decode step failed")
                self.fail_all(error)
                self._decoder = None
                return None
            self._record(output)
            self._vocode(backend, decoder)
            if step_aside is not None and (other_work := step_aside()) is not None:
                return other_work

    def least_lead(self) -> float:
        """The least audio any listener of the batch has ahead of playback (seconds; 0 for
        a text whose first audio has not come yet)."""
        with self._lock:
            waiting = list(self._waiting)
        utterances = [sentence.utterance for sentence in self._active.values()] + waiting
        return min((utterance.lead() for utterance in utterances), default=0.0)

    def _decoder_for(self, backend: BatchedSpeechBackend) -> SpeechDecoder:
        if self._decoder is None or self._decoder_backend is not backend:
            self._decoder = backend.speech_decoder(self.max_requests, MAX_SENTENCE_POSITIONS)
            self._decoder_backend = backend
        return self._decoder

    def _join_waiting(self, backend: BatchedSpeechBackend, decoder: SpeechDecoder) -> None:
        """Start the next sentence of every waiting utterance while the decoder has room."""
        while len(self._active) < decoder.max_requests:
            with self._lock:
                if not self._waiting:
                    return
                utterance = self._waiting.popleft()
            if utterance.cancelled:
                utterance.deliver(JobCancelledError())
                continue
            try:
                sentence, request_id = self._start_sentence(backend, decoder, utterance)
            except DecoderBusyError:
                with self._lock:
                    self._waiting.appendleft(utterance)
                return
            except Exception as error:  # this utterance's own problem (voice, language)
                utterance.deliver(error)
                continue
            self._active[request_id] = sentence

    def _start_sentence(
        self, backend: BatchedSpeechBackend, decoder: SpeechDecoder, utterance: Utterance
    ) -> tuple[Sentence, int]:
        index = utterance.next_piece
        text = utterance.pieces[index]
        params = utterance.params
        seed = utterance.piece_seed(index)
        conditionals = self._conditionals(backend, utterance)
        request = backend.decode_request(
            conditionals, text, params, seed=seed, budget=token_budget(text, params)
        )
        stream = backend.audio_stream(
            conditionals, params, seed=seed, first_tokens=self._first_audio_tokens
        )
        request_id = decoder.add_request(request.conditioning, request.text_tokens, request.params)
        utterance.next_piece += 1
        return Sentence(utterance, index, text, stream, conditionals), request_id

    def _drop_cancelled(self, decoder: SpeechDecoder) -> None:
        for request_id, sentence in list(self._active.items()):
            if sentence.utterance.cancelled:
                if not sentence.finished:
                    decoder.cancel(request_id)
                del self._active[request_id]
                sentence.utterance.deliver(JobCancelledError())

    def _record(self, output: StepOutput) -> None:
        for request_id, speech_token in output.tokens.items():
            self._active[request_id].tokens.append(speech_token)
        for finished in output.finished:
            self._active[finished.request_id].finished = True

    def _vocode(self, backend: BatchedSpeechBackend, decoder: SpeechDecoder) -> None:
        """Audio for every sentence with enough new tokens, in one vocoder call."""
        ready: list[tuple[int, Sentence]] = []
        jobs: list[VocodeJob] = []
        for request_id, sentence in self._active.items():
            if not sentence.finished and sentence.utterance.lead() > STREAM_LEAD_SECONDS:
                continue  # its listener has audio enough: vocode it whole, later
            tokens = backend.speech_tokens(sentence.tokens, sentence.finished)
            if sentence.stream.wants_piece(len(tokens), sentence.finished):
                ready.append((request_id, sentence))
                jobs.append((sentence.stream, tokens, sentence.finished))
        if not jobs:
            return
        try:
            pieces = backend.vocode(jobs)
            for (request_id, sentence), samples in zip(ready, pieces, strict=True):
                if sentence.finished:
                    samples = trim_trailing_noise(samples, self._sample_rate)
                marked = backend.watermark(samples) if len(samples) else samples
                chunk = sentence.chunk(marked, self._sample_rate, last=sentence.finished)
                sentence.utterance.deliver(chunk)
                if sentence.finished:
                    del self._active[request_id]
                    self._next_sentence(sentence.utterance)
        except Exception as error:
            log.exception("vocoding speech failed")
            for request_id, sentence in ready:
                if self._active.pop(request_id, None) is not None and not sentence.finished:
                    decoder.cancel(request_id)
                sentence.utterance.deliver(error)

    def _next_sentence(self, utterance: Utterance) -> None:
        if utterance.next_piece >= len(utterance.pieces):
            utterance.deliver(None)
            return
        with self._lock:
            self._waiting.appendleft(utterance)  # it was admitted already: first in line

    def fail_all(self, error: BaseException) -> None:
        """End every utterance in the batch or waiting for it with ``error``."""
        with self._lock:
            waiting, self._waiting = list(self._waiting), deque()
        for sentence in self._active.values():
            sentence.utterance.deliver(error)
        for utterance in waiting:
            utterance.deliver(error)
        self._active.clear()
