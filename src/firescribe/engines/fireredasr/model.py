"""FireRedASR-AED: Conformer encoder + Transformer decoder, built from the checkpoint's args."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from firescribe.engines.fireredasr.align import forced_align, token_times
from firescribe.engines.fireredasr.beam_search import BeamParams, Hypothesis, beam_search
from firescribe.engines.fireredasr.context import ContextGraph
from firescribe.engines.fireredasr.ctc import CtcHead
from firescribe.engines.fireredasr.decoder import TransformerDecoder
from firescribe.engines.fireredasr.encoder import ConformerEncoder


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
    def from_args(cls, args) -> AedConfig:
        return cls(**{f: int(getattr(args, f)) for f in cls.__dataclass_fields__})


class FireRedAed(nn.Module):
    """FireRedASR-AED (v1) or, with ``ctc=True``, FireRedASR2-AED (the same encoder and
    decoder plus a CTC head on the encoder output, used for token timestamps)."""

    def __init__(self, cfg: AedConfig, ctc: bool = False):
        super().__init__()
        self.cfg = cfg
        self.encoder = ConformerEncoder(cfg.idim, cfg.n_layers_enc, cfg.n_head, cfg.d_model, cfg.kernel_size, cfg.pe_maxlen)
        self.decoder = TransformerDecoder(cfg.sos_id, cfg.eos_id, cfg.pad_id, cfg.odim, cfg.n_layers_dec, cfg.n_head, cfg.d_model, cfg.pe_maxlen)
        self.ctc = CtcHead(cfg.d_model, cfg.odim) if ctc else None

    @torch.inference_mode()
    def transcribe(
        self, feats: Tensor, lengths: Tensor, params: BeamParams, timestamps: bool = False, context: ContextGraph | None = None,
        decoder_mode: str = "eager",
    ) -> list[list[Hypothesis]]:
        """feats [N, T, 80] (padded), lengths [N] -> per utterance, n-best hypotheses. With
        ``timestamps`` and a CTC head (FireRedASR2), the best hypotheses get token times; with
        a ``context`` graph, the search favours its hotwords. ``decoder_mode``: the decoding
        step (``decoder.DECODER_MODES``; the same tokens in each)."""
        enc, mask = self.encoder(feats, lengths)
        ctc_log_probs = self.ctc(enc) if timestamps and self.ctc is not None else None
        return search(self.decoder, enc, mask, params, ctc_log_probs, context, decoder_mode)


def search(
    decoder, enc: Tensor, mask: Tensor, params: BeamParams, ctc_log_probs: Tensor | None = None, context: ContextGraph | None = None,
    mode: str = "eager",
) -> list[list[Hypothesis]]:
    """Beam search over encoder output enc [N, T', D], mask [N, 1, T'] with ``decoder`` (ours
    in torch, or its ONNX Runtime counterpart), biased towards ``context``'s hotwords if given.
    With CTC log-probabilities [N, T', V], the best hypothesis of each utterance gets token
    times by CTC forced alignment (none where it has more tokens than frames, as in the
    official code)."""
    hyps = beam_search(decoder, enc, mask, params, context, mode)
    if ctc_log_probs is not None:
        for i, utt in enumerate(hyps):
            best, n = utt[0], int(mask[i].sum())
            if best.tokens and len(best.tokens) <= n and 0 not in best.tokens:
                best.times = list(zip(*token_times(forced_align(ctc_log_probs[i, :n], best.tokens))))
    return hyps
