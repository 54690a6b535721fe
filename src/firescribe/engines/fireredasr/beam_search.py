"""Batched beam search for FireRedASR-AED: the official algorithm, without its waste.

Same scores, same pruning, same ending rule as the official ``batch_beam_search``:
per step, each of the B beams proposes its top-B tokens (log-softmax of logits /
softmax_smoothing; the EOS score multiplied by eos_penalty); a finished beam proposes
only EOS at no cost; the best B of the B*B candidates survive. Decoding ends when every
beam of every utterance has produced EOS, or after ``max_len`` steps (default: the
padded encoder length). Final scores get the GNMT length penalty.

Differences that do not change the result: each step runs the decoder on the newest
position only (cached keys/values), and utterances whose beams are all finished leave
the batch (the official code keeps feeding them EOS at zero cost).

With a ``ContextGraph`` (hotwords), each step's scores get the graph's bonus before the
pruning, so a hotword can enter the beam; hypothesis scores include the bonus, token
probabilities stay the model's own. Without one the search is the official one above.

``mode`` (``decoder.DECODER_MODES``) chooses the decoding step: in ``static`` and ``graph``
the batch keeps its shape to the end (a finished utterance keeps proposing EOS at no cost, as
in the official code, and its result is taken when it finished), for a step of fixed shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from firescribe.engines.fireredasr.context import ROOT, ContextGraph
from firescribe.engines.fireredasr.decoder import TransformerDecoder

NEG_INF = -1e10  # the official code's "infinity"


@dataclass
class Hypothesis:
    tokens: list[int]  # without SOS and EOS
    score: float  # accumulated log-probability after the length penalty (higher is better)
    # per token, exp of the score it was chosen with (FireRedASR2's token confidence)
    token_probs: list[float] = field(default_factory=list)
    # per token (start, end) in seconds from the CTC alignment (FireRedASR2 only), else None
    times: list[tuple[float, float]] | None = None

    @property
    def confidence(self) -> float:
        """Mean token probability, as FireRedASR2 reports it (1.0 for an empty hypothesis)."""
        return sum(self.token_probs) / len(self.token_probs) if self.token_probs else 1.0


@dataclass(frozen=True)
class BeamParams:
    beam_size: int = 1
    nbest: int = 1
    decode_max_len: int = 0
    softmax_smoothing: float = 1.0
    length_penalty: float = 0.0
    eos_penalty: float = 1.0


@torch.inference_mode()
def beam_search(
    decoder: TransformerDecoder, enc: Tensor, enc_mask: Tensor, p: BeamParams, context: ContextGraph | None = None,
    mode: str = "eager",
) -> list[list[Hypothesis]]:
    """enc [N, T', D], enc_mask [N, 1, T'] bool -> per utterance, ``nbest`` hypotheses,
    biased towards the hotwords of ``context`` when given; ``mode``: the decoding step."""
    assert 0.0 < p.eos_penalty <= 1.0
    n_utt, t_enc, _ = enc.shape
    B, eos = p.beam_size, decoder.eos_id
    max_len = p.decode_max_len if p.decode_max_len > 0 else t_enc
    device = enc.device

    state = decoder.init_state(enc, enc_mask, B) if mode == "eager" else decoder.init_state(enc, enc_mask, B, mode, max_len)
    fixed = mode != "eager"  # the batch keeps its rows (a static step's shapes)
    active = torch.arange(n_utt, device=device)  # utterances still decoding
    ys = torch.full((n_utt * B, 1), decoder.sos_id, dtype=torch.long, device=device)  # [R, L]
    scores = torch.tensor([0.0] + [NEG_INF] * (B - 1), device=device).repeat(n_utt).view(-1, 1)  # [R, 1]
    probs = torch.ones_like(ys, dtype=torch.float)  # [R, L] chosen tokens' probabilities (SOS: 1)
    finished = torch.zeros_like(scores, dtype=torch.bool)
    final_ys: dict[int, Tensor] = {}
    final_scores: dict[int, Tensor] = {}
    final_probs: dict[int, Tensor] = {}
    no_more = torch.tensor([0.0] + [NEG_INF] * (B - 1), device=device)  # a finished beam's proposals
    states = [ROOT] * (n_utt * B)  # per row, its hotword match (context graph state)

    for t in range(max_len):
        n = len(active)
        logits, state = decoder.step(ys[:, -1], t, state)
        # in fp32 whatever the model's precision: the beams' scores are sums over many steps
        step_scores = torch.log_softmax(logits.float() / p.softmax_smoothing, dim=-1)
        if p.eos_penalty != 1.0:
            step_scores[:, eos] *= p.eos_penalty
        if context is None:
            top_scores, top_ys = torch.topk(step_scores, k=B, dim=1)  # [R, B]
            model_scores = top_scores
        else:
            biased = step_scores + context.bonus(states, eos, device, step_scores.dtype)  # [R, V]
            top_scores, top_ys = torch.topk(biased, k=B, dim=1)  # [R, B]
            model_scores = torch.gather(step_scores, 1, top_ys)
        top_scores = torch.where(finished, no_more, top_scores)
        model_scores = torch.where(finished, no_more, model_scores)
        top_ys = torch.where(finished, eos, top_ys)

        cand = (scores + top_scores).view(n, B * B)
        scores, best = torch.topk(cand, k=B, dim=1)  # [n, B]
        scores = scores.view(-1, 1)
        rows = (best // B + B * torch.arange(n, device=device)[:, None]).view(-1)  # source beam rows
        new_tokens = torch.gather(top_ys.view(n, B * B), 1, best).view(-1, 1)
        new_probs = torch.gather(model_scores.view(n, B * B), 1, best).exp().view(-1, 1)
        if context is not None:
            states = context.advance([states[r] for r in rows.tolist()], new_tokens.view(-1).tolist())
        ys = torch.cat([ys[rows], new_tokens], dim=1)
        probs = torch.cat([probs[rows], new_probs], dim=1)
        finished = new_tokens.eq(eos)
        if context is not None and t == max_len - 1:  # cut off: unfinished matches are taken back
            scores = scores + torch.tensor([context.final_bonus(s) for s in states], dtype=scores.dtype, device=device).view(-1, 1)

        done = finished.view(n, B).all(dim=1)  # [n]
        keep = ~done if t < max_len - 1 else torch.zeros_like(done)  # at max_len every utterance ends
        for i in torch.nonzero(~keep).flatten().tolist():
            u = int(active[i])
            if u in final_ys:  # fixed rows: finished earlier, still in the batch
                continue
            final_ys[u], final_scores[u] = ys.view(n, B, -1)[i], scores.view(n, B)[i]
            final_probs[u] = probs.view(n, B, -1)[i]
        if not keep.any():
            break
        if keep.all() or fixed:
            state = state.select(rows)
        else:
            kept_rows = (torch.nonzero(keep).flatten()[:, None] * B + torch.arange(B, device=device)).view(-1)
            state = state.select(rows[kept_rows], torch.nonzero(keep).flatten())
            ys, scores, finished = ys[kept_rows], scores[kept_rows], finished[kept_rows]
            probs = probs[kept_rows]
            active = active[keep]
            states = [states[r] for r in kept_rows.tolist()]

    return [_nbest(final_ys[u], final_scores[u], final_probs[u], eos, p) for u in range(n_utt)]


def _nbest(ys: Tensor, scores: Tensor, probs: Tensor, eos: int, p: BeamParams) -> list[Hypothesis]:
    """ys, probs [B, L] (SOS first), scores [B] -> the ``nbest`` best after the length penalty."""
    lengths = ys.ne(eos).sum(dim=-1)  # counts SOS, as the official code does
    if p.length_penalty > 0.0:
        scores = scores / torch.pow((5 + lengths.float()) / 6.0, p.length_penalty)
    best_scores, best = torch.topk(scores, k=p.nbest)
    return [Hypothesis(ys[b, 1 : lengths[b]].tolist(), float(s), probs[b, 1 : lengths[b]].tolist()) for s, b in zip(best_scores, best)]
