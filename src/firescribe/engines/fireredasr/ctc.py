"""The CTC head of FireRedASR2-AED: per encoder frame, log-probabilities over the vocabulary
(token 0 is the CTC blank). Parameter names match the official checkpoint (``ctc.ctc_lo``)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class CtcHead(nn.Module):
    def __init__(self, d_model: int, odim: int):
        super().__init__()
        self.ctc_lo = nn.Linear(d_model, odim)

    def forward(self, enc: Tensor) -> Tensor:
        """enc [N, T', D] -> log-probabilities [N, T', odim], in fp32 whatever the model's precision"""
        return torch.log_softmax(self.ctc_lo(enc).float(), dim=-1)
