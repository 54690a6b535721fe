"""Transformer decoder of FireRedASR-AED, written for incremental decoding.

Per decoding step only the newest position is computed: self-attention keys/values of
earlier positions are cached per layer, and cross-attention keys/values of the encoder
output are computed once per utterance (shared by all its beams). Parameter names match
the official checkpoint.

Shapes: N utterances, B beams, R = N*B rows, T' encoder frames, L decoded length, D, H, K.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from firescribe.fireredasr.encoder import sinusoid_table


SMALL_BATCH_ROWS = 8


def linear(x: Tensor, layer: nn.Linear) -> Tensor:
    """``layer(x)`` for x [R, ..., in]; with few rows (a decoding step of a few beams) computed
    as W @ x^T, which CPU BLAS runs about twice as fast as x @ W^T when R is small."""
    flat = x.reshape(-1, x.shape[-1])
    if flat.shape[0] > SMALL_BATCH_ROWS or type(layer) is not nn.Linear:  # e.g. an int8 quantized linear
        return layer(x)
    if layer.bias is None:
        y = torch.matmul(layer.weight, flat.t())
    else:
        y = torch.addmm(layer.bias[:, None], layer.weight, flat.t())
    return y.t().reshape(*x.shape[:-1], -1)


class DecoderAttention(nn.Module):
    def __init__(self, d_model: int, n_head: int):
        super().__init__()
        self.n_head, self.d_k = n_head, d_model // n_head
        self.w_qs = nn.Linear(d_model, d_model)
        self.w_ks = nn.Linear(d_model, d_model, bias=False)
        self.w_vs = nn.Linear(d_model, d_model)
        self.fc = nn.Linear(d_model, d_model)

    def heads(self, x: Tensor) -> Tensor:
        """[..., L, D] -> [..., H, L, K]"""
        return x.unflatten(-1, (self.n_head, self.d_k)).transpose(-3, -2)

    def merge(self, x: Tensor) -> Tensor:
        """[..., H, L, K] -> [..., L, D]"""
        return x.transpose(-3, -2).flatten(-2)


class DecoderLayer(nn.Module):
    def __init__(self, d_model: int, n_head: int):
        super().__init__()
        self.self_attn_norm = nn.LayerNorm(d_model)
        self.self_attn = DecoderAttention(d_model, n_head)
        self.cross_attn_norm = nn.LayerNorm(d_model)
        self.cross_attn = DecoderAttention(d_model, n_head)
        self.mlp_norm = nn.LayerNorm(d_model)
        self.mlp = PositionwiseFeedForward(d_model)

    def cross_kv(self, enc: Tensor) -> tuple[Tensor, Tensor]:
        """enc [N, T', D] -> keys, values [N, H, T', K] (once per utterance)."""
        a = self.cross_attn
        return a.heads(a.w_ks(enc)), a.heads(a.w_vs(enc))

    def step(self, x: Tensor, cache: tuple[Tensor, Tensor] | None, cross: tuple[Tensor, Tensor], cross_mask: Tensor, beams: int) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """One new position. x [R, 1, D]; cache: self-attn keys/values [R, H, L, K] of earlier
        positions; cross: [N, H, T', K]; cross_mask [N, 1, 1, T'] bool. Returns [R, 1, D] and
        the cache extended by this position."""
        sa = self.self_attn
        h = self.self_attn_norm(x)
        k, v = sa.heads(linear(h, sa.w_ks)), sa.heads(linear(h, sa.w_vs))  # [R, H, 1, K]
        if cache is not None:
            k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
        q = sa.heads(linear(h, sa.w_qs))
        x = x + linear(sa.merge(F.scaled_dot_product_attention(q, k, v)), sa.fc)

        ca = self.cross_attn
        h = self.cross_attn_norm(x)  # [R, 1, D]
        n = cross[0].shape[0]
        # the B beams of an utterance are B query positions against that utterance's keys
        q = ca.heads(linear(h, ca.w_qs).view(n, beams, -1))  # [N, H, B, K]
        o = F.scaled_dot_product_attention(q, cross[0], cross[1], attn_mask=cross_mask)  # [N, H, B, K]
        x = x + linear(ca.merge(o), ca.fc).reshape(n * beams, 1, -1)

        x = x + self.mlp(self.mlp_norm(x))
        return x, (k, v)


class PositionwiseFeedForward(nn.Module):
    def __init__(self, d_model: int):
        super().__init__()
        self.w_1 = nn.Linear(d_model, 4 * d_model)
        self.act = nn.GELU()
        self.w_2 = nn.Linear(4 * d_model, d_model)

    def forward(self, x: Tensor) -> Tensor:
        return linear(self.act(linear(x, self.w_1)), self.w_2)


@dataclass
class DecoderState:
    """Everything carried from one decoding step to the next."""

    cross: list[tuple[Tensor, Tensor]]  # per layer, [N, H, T', K]
    cross_mask: Tensor  # [N, 1, 1, T'] bool
    cache: list[tuple[Tensor, Tensor] | None]  # per layer, [R, H, L, K]
    beams: int

    def select(self, rows: Tensor, utts: Tensor | None = None) -> "DecoderState":
        """Keep/reorder cache rows (beam selection); optionally keep only utterances ``utts``."""
        cache = [None if c is None else (c[0][rows], c[1][rows]) for c in self.cache]
        if utts is None:
            return DecoderState(self.cross, self.cross_mask, cache, self.beams)
        cross = [(k[utts], v[utts]) for k, v in self.cross]
        return DecoderState(cross, self.cross_mask[utts], cache, self.beams)


class TransformerDecoder(nn.Module):
    def __init__(self, sos_id: int, eos_id: int, pad_id: int, odim: int, n_layers: int, n_head: int, d_model: int, pe_maxlen: int):
        super().__init__()
        self.sos_id, self.eos_id, self.pad_id = sos_id, eos_id, pad_id
        self.tgt_word_emb = nn.Embedding(odim, d_model, padding_idx=pad_id)
        self.layer_stack = nn.ModuleList(DecoderLayer(d_model, n_head) for _ in range(n_layers))
        self.layer_norm_out = nn.LayerNorm(d_model)
        self.tgt_word_prj = nn.Linear(d_model, odim, bias=False)
        self.tgt_word_prj.weight = self.tgt_word_emb.weight  # tied, as in the official model
        self.scale = math.sqrt(d_model)
        self.register_buffer("pe", sinusoid_table(pe_maxlen, d_model), persistent=False)

    def init_state(self, enc: Tensor, enc_mask: Tensor, beams: int) -> DecoderState:
        """enc [N, T', D], enc_mask [N, 1, T'] bool."""
        cross = [layer.cross_kv(enc) for layer in self.layer_stack]
        return DecoderState(cross, enc_mask.unsqueeze(1), [None] * len(self.layer_stack), beams)

    def step(self, tokens: Tensor, position: int, state: DecoderState) -> tuple[Tensor, DecoderState]:
        """tokens [R] at ``position`` -> logits [R, odim] of the next token, new state."""
        x = (self.tgt_word_emb(tokens) * self.scale + self.pe[position]).unsqueeze(1)  # [R, 1, D]
        cache = []
        for layer, c, cross in zip(self.layer_stack, state.cache, state.cross):
            x, kv = layer.step(x, c, cross, state.cross_mask, state.beams)
            cache.append(kv)
        logits = linear(self.layer_norm_out(x[:, 0]), self.tgt_word_prj)
        return logits, DecoderState(state.cross, state.cross_mask, cache, state.beams)
