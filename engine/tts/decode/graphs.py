"""A decoder's decode forward at fixed shapes, one per batch-size bucket, optionally
recorded as CUDA graphs (one kernel launch per step instead of hundreds).

The forward reads and writes only the decoder's preallocated buffers (newest tokens,
lengths, cache, logits), so a recorded graph replays it on whatever those buffers hold.
Recording happens while no request is active: warm-up runs write into free rows only.
Untested on a GPU so far (none was available): capture failures fall back to eager
decoding, but a capture that succeeds is trusted to replay what it recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import torch

log = logging.getLogger(__name__)

_WARM_UP_RUNS = 2


def default_buckets(max_requests: int) -> tuple[int, ...]:
    """Powers of two below ``max_requests``, and ``max_requests`` itself."""
    sizes = {max_requests}
    size = 1
    while size < max_requests:
        sizes.add(size)
        size *= 2
    return tuple(sorted(sizes))


class StaticDecodeSteps:
    """Runs ``forward(bucket)`` for the smallest bucket that holds the active requests;
    with ``capture``, each bucket's forward is a recorded CUDA graph."""

    def __init__(
        self, forward: Callable[[int], None], buckets: Iterable[int], *, capture: bool
    ) -> None:
        self._forward = forward
        self.buckets = tuple(sorted(set(buckets)))
        if not self.buckets or self.buckets[0] < 1:
            raise ValueError("buckets must be positive batch sizes")
        self._graphs: dict[int, torch.cuda.CUDAGraph] = {}
        if capture:
            self._record()

    @property
    def captured(self) -> bool:
        return bool(self._graphs)

    def bucket_for(self, count: int) -> int | None:
        return next((bucket for bucket in self.buckets if bucket >= count), None)

    def run(self, bucket: int) -> None:
        graph = self._graphs.get(bucket)
        if graph is None:
            self._forward(bucket)
        else:
            graph.replay()

    def _record(self) -> None:
        largest_first = sorted(self.buckets, reverse=True)
        side = torch.cuda.Stream()  # type: ignore[no-untyped-call]  # torch.cuda.Stream is untyped
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up off the default stream, as capture wants
            for bucket in largest_first:
                for _ in range(_WARM_UP_RUNS):
                    self._forward(bucket)
        torch.cuda.current_stream().wait_stream(side)
        pool = torch.cuda.graph_pool_handle()
        for bucket in largest_first:  # the largest sets the shared pool's size
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, pool=pool):
                self._forward(bucket)
            self._graphs[bucket] = graph
        torch.cuda.synchronize()


def try_capture(forward: Callable[[int], None], buckets: Iterable[int]) -> StaticDecodeSteps | None:
    """Recorded graphs for ``forward``, or None (eager decoding) when recording fails."""
    try:
        return StaticDecodeSteps(forward, buckets, capture=True)
    except Exception:  # any capture failure: decoding stays correct, only slower
        log.warning("CUDA graph capture of the speech decode step failed; decoding eagerly")
        log.debug("capture failure", exc_info=True)
        return None
