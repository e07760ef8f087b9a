"""A preallocated key/value cache whose rows each keep their own length.

The backbone (a transformers ``LlamaModel``) calls :meth:`RowCache.update` once per layer
per forward with the new keys and values. Before each forward the decoder says which
rows the forward covers and where each of them writes: a prefill writes a whole prompt
into a pair of rows from position 0; a decode step writes one position per row, at that
row's own length, so rows of different lengths never need padding. The attention mask
(built by the decoder) hides every position a row has not written.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


class RowCache:
    """Keys and values for ``rows`` sequences of up to ``length`` positions, per layer."""

    def __init__(
        self,
        *,
        layers: int,
        rows: int,
        heads: int,
        head_dim: int,
        length: int,
        dtype: torch.dtype,
        device: torch.device,
    ) -> None:
        shape = (rows, heads, length, head_dim)
        self.keys = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(layers)]
        self.values = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(layers)]
        self.rows = rows
        self.length = length
        self._first_row = 0
        self._row_count = 0
        self._prefill_length = 0
        self._positions: Tensor | None = None
        self._visible = 0

    def target_prefill(self, first_row: int, row_count: int, prompt_length: int) -> None:
        """The next forward writes ``prompt_length`` positions from 0 into these rows."""
        self._first_row, self._row_count = first_row, row_count
        self._prefill_length = prompt_length
        self._positions = None

    def target_decode(self, positions: Tensor, visible: int) -> None:
        """The next forward covers rows ``0 .. len(positions)``, one position each.

        ``positions[row]`` is where that row writes; attention reads the first
        ``visible`` positions of every row (the mask hides the rest).
        """
        self._first_row, self._row_count = 0, int(positions.shape[0])
        self._positions = positions
        self._visible = visible

    def update(
        self,
        key_states: Tensor,
        value_states: Tensor,
        layer_idx: int,
        cache_kwargs: dict[str, Any] | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Store the new keys and values; return what attention reads for these rows."""
        rows = slice(self._first_row, self._first_row + self._row_count)
        keys, values = self.keys[layer_idx][rows], self.values[layer_idx][rows]
        if self._positions is None:
            prompt = slice(0, self._prefill_length)
            keys[:, :, prompt] = key_states
            values[:, :, prompt] = value_states
            return keys[:, :, prompt], values[:, :, prompt]
        row_index = torch.arange(self._row_count, device=keys.device)
        keys[row_index, :, self._positions] = key_states[:, :, 0]
        values[row_index, :, self._positions] = value_states[:, :, 0]
        visible = slice(0, self._visible)
        return keys[:, :, visible], values[:, :, visible]

    def copy_rows(self, source: int, target: int, row_count: int, length: int) -> None:
        """Copy the first ``length`` positions of rows ``source..`` onto rows ``target..``."""
        source_rows = slice(source, source + row_count)
        target_rows = slice(target, target + row_count)
        for buffer in (*self.keys, *self.values):
            buffer[target_rows, :, :length] = buffer[source_rows, :, :length]
