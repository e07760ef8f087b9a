"""HuBERT/ContentVec as transformers builds it, plus ContentVec's ``final_proj`` layer.

ContentVec conversions for transformers (e.g. ``lengyue233/content-vec-best``) carry the
768->256 projection that fairseq's checkpoint had; RVC v1 reads layer 9 through it. This
module imports transformers at import time: import it lazily.
"""

from __future__ import annotations

from torch import nn
from transformers import HubertConfig, HubertModel


class HubertWithProjection(HubertModel):  # type: ignore[no-untyped-call]  # transformers' PreTrainedModel.__init_subclass__ is unannotated
    """``HubertModel`` with ``final_proj`` (hidden_size -> classifier_proj_size)."""

    def __init__(self, config: HubertConfig) -> None:
        super().__init__(config)
        self.final_proj = nn.Linear(config.hidden_size, config.classifier_proj_size)
