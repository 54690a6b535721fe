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
    as W @ x^T, then + bias, which CPU BLAS runs about twice as fast as x @ W^T (and ~10%
    faster than the fused addmm) when R is small."""
    flat = x.reshape(-1, x.shape[-1])
    if flat.shape[0] > SMALL_BATCH_ROWS or type(layer) is not nn.Linear:
        return layer(x)  # also int8 quantized linears
    y = torch.matmul(layer.weight, flat.t())  # [out, R]
    if layer.bias is not None:
        y = y.add_(layer.bias[:, None])
    return y.t().reshape(*x.shape[:-1], -1)


def attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None) -> Tensor:
    """softmax(q k^T / sqrt(K)) v for q [..., Lq, K], k, v [..., Lk, K], mask [..., Lq|1, Lk]
    bool (True = attend), fused (the ONNX graphs write it out: export.attend_unfused)."""
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


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

    def step(self, x: Tensor, cache: SelfAttentionCache, index: int, cross: tuple[Tensor, Tensor], cross_mask: Tensor | None, beams: int) -> Tensor:
        """One new position. x [R, 1, D]; ``cache`` holds this layer's (number ``index``)
        self-attention keys/values of earlier positions and takes this one's; cross:
        [N, H, T', K]; cross_mask [N, 1, 1, T'] bool or None (no padding). Returns [R, 1, D]."""
        sa = self.self_attn
        h = self.self_attn_norm(x)
        k, v, q = (sa.heads(linear(h, w)) for w in (sa.w_ks, sa.w_vs, sa.w_qs))  # [R, H, 1, K]
        x = x + linear(sa.merge(cache.attend(index, q, k, v)), sa.fc)

        ca = self.cross_attn
        h = self.cross_attn_norm(x)  # [R, 1, D]
        n = cross[0].shape[0]
        # the B beams of an utterance are B query positions against that utterance's keys
        q = ca.heads(linear(h, ca.w_qs).view(n, beams, -1))  # [N, H, B, K]
        o = attend(q, cross[0], cross[1], cross_mask)  # [N, H, B, K]
        x = x + linear(ca.merge(o), ca.fc).reshape(n * beams, 1, -1)

        return x + self.mlp(self.mlp_norm(x))


class SelfAttentionCache:
    """Self-attention keys and values of the decoded positions, per layer, in preallocated
    buffers [R, H, C, K] (capacity C >= length L, doubled when full).

    A step writes its position in place (no re-concatenation of the whole prefix per step),
    and beam selection reorders rows with one copy into a spare buffer, skipped when the
    beams keep their rows. Both matter on long units: at 60 s (240 steps) the cache is
    ~100 MB, and copying it twice per step cost as much as the attention over the encoder.
    Buffers start zeroed, so that positions past L hold finite values (the ONNX decoder step
    reads whole buffers and masks those positions)."""

    def __init__(self, n_layers: int):
        self.keys: list[Tensor | None] = [None] * n_layers
        self.values: list[Tensor | None] = [None] * n_layers
        self._spare: list[tuple[Tensor, Tensor] | None] = [None] * n_layers
        self.length = 0

    def attend(self, layer: int, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """Self-attention of the new position: q, k, v [R, H, 1, K] -> [R, H, 1, K] over
        positions 0..L (the cached ones and this one, which the cache takes)."""
        keys, values = self.append(layer, k, v)
        return attend(q, keys, values)

    def append(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """k, v [R, H, 1, K] of position L -> views [R, H, L+1, K] of positions 0..L."""
        L = self.length
        self.reserve(layer, k)
        self.keys[layer][:, :, L] = k[:, :, 0]
        self.values[layer][:, :, L] = v[:, :, 0]
        return self.keys[layer][:, :, : L + 1], self.values[layer][:, :, : L + 1]

    def reserve(self, layer: int, like: Tensor) -> None:
        """Room for position L in ``layer``'s buffers, of rows and heads as ``like`` [R, H, 1, K]."""
        L, buf = self.length, self.keys[layer]
        if buf is None or buf.shape[2] == L:
            capacity = max(32, 2 * L)
            self.keys[layer] = self._grow(buf, like, capacity)
            self.values[layer] = self._grow(self.values[layer], like, capacity)
            self._spare[layer] = None

    def _grow(self, buf: Tensor | None, new: Tensor, capacity: int) -> Tensor:
        r, h, _, k = new.shape
        grown = new.new_zeros(r, h, capacity, k)
        if buf is not None:
            grown[:, :, : self.length] = buf[:, :, : self.length]
        return grown

    def advance(self) -> None:
        """Every layer has appended the current position."""
        self.length += 1

    def select(self, rows: Tensor) -> None:
        """Row r of the cache becomes the former row rows[r] (beam selection; fewer rows when
        utterances leave the batch)."""
        if self.keys[0] is None:
            return
        n_rows = self.keys[0].shape[0]
        if len(rows) == n_rows and torch.equal(rows, torch.arange(n_rows, device=rows.device)):
            return
        L = self.length
        for i, (k, v) in enumerate(zip(self.keys, self.values)):
            if len(rows) != n_rows:  # shrinking: fresh, smaller buffers
                self.keys[i], self.values[i], self._spare[i] = k.index_select(0, rows), v.index_select(0, rows), None
                continue
            if self._spare[i] is None:
                self._spare[i] = (torch.zeros_like(k), torch.zeros_like(v))
            sk, sv = self._spare[i]
            torch.index_select(k[:, :, :L], 0, rows, out=sk[:, :, :L])
            torch.index_select(v[:, :, :L], 0, rows, out=sv[:, :, :L])
            self.keys[i], self.values[i], self._spare[i] = sk, sv, (k, v)


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
    cross_mask: Tensor | None  # [N, 1, 1, T'] bool, None when no utterance is padded
    cache: SelfAttentionCache  # per layer, [R, H, L, K]
    beams: int

    def select(self, rows: Tensor, utts: Tensor | None = None) -> DecoderState:
        """Keep/reorder cache rows (beam selection); optionally keep only utterances ``utts``.
        The cache is reordered in place: the state this is called on is used up."""
        self.cache.select(rows)
        if utts is None:
            return self
        cross = [(k[utts], v[utts]) for k, v in self.cross]
        return DecoderState(cross, None if self.cross_mask is None else self.cross_mask[utts], self.cache, self.beams)


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
        cross_mask = None if bool(enc_mask.all()) else enc_mask.unsqueeze(1)
        return DecoderState(cross, cross_mask, SelfAttentionCache(len(self.layer_stack)), beams)

    def step(self, tokens: Tensor, position: int, state: DecoderState) -> tuple[Tensor, DecoderState]:
        """tokens [R] at ``position`` -> logits [R, odim] of the next token, and the state
        (updated in place) for the next step."""
        x = (self.tgt_word_emb(tokens) * self.scale + self.pe[position]).unsqueeze(1)  # [R, 1, D]
        for i, (layer, cross) in enumerate(zip(self.layer_stack, state.cross)):
            x = layer.step(x, state.cache, i, cross, state.cross_mask, state.beams)
        state.cache.advance()
        logits = linear(self.layer_norm_out(x[:, 0]), self.tgt_word_prj)
        return logits, state
