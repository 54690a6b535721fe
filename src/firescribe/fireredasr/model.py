"""FireRedASR-AED: Conformer encoder + Transformer decoder, built from the checkpoint's args."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from firescribe.fireredasr.beam_search import BeamParams, Hypothesis, beam_search
from firescribe.fireredasr.decoder import TransformerDecoder
from firescribe.fireredasr.encoder import ConformerEncoder


@dataclass(frozen=True)
class AedConfig:
    """The fields of the official checkpoint's ``args`` that define the network."""

    idim: int
    odim: int
    d_model: int
    n_head: int
    n_layers_enc: int
    n_layers_dec: int
    kernel_size: int
    pe_maxlen: int
    sos_id: int
    eos_id: int
    pad_id: int

    @classmethod
    def from_args(cls, args) -> "AedConfig":
        return cls(**{f: int(getattr(args, f)) for f in cls.__dataclass_fields__})


class FireRedAed(nn.Module):
    def __init__(self, cfg: AedConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = ConformerEncoder(cfg.idim, cfg.n_layers_enc, cfg.n_head, cfg.d_model, cfg.kernel_size, cfg.pe_maxlen)
        self.decoder = TransformerDecoder(cfg.sos_id, cfg.eos_id, cfg.pad_id, cfg.odim, cfg.n_layers_dec, cfg.n_head, cfg.d_model, cfg.pe_maxlen)

    @torch.inference_mode()
    def transcribe(self, feats: Tensor, lengths: Tensor, params: BeamParams) -> list[list[Hypothesis]]:
        """feats [N, T, 80] (padded), lengths [N] -> per utterance, n-best hypotheses."""
        enc, mask = self.encoder(feats, lengths)
        return beam_search(self.decoder, enc, mask, params)
