"""Transformer decoder of FireRedASR-AED, written for incremental decoding.

Per decoding step only the newest position is computed: self-attention keys/values of
earlier positions are cached per layer, and cross-attention keys/values of the encoder
output are computed once per utterance (shared by all its beams). Parameter names match
the official checkpoint.

Shapes: N utterances, B beams, R = N*B rows, T' encoder frames, L decoded length, D, H, K.

Decoding modes (``DECODER_MODES``; the beam search's ``mode``):

- ``eager`` (the default): the self-attention cache grows with L and rows leave the batch
  as their utterances finish: the least arithmetic, one kernel launch per operation.
- ``static``: one fixed shape per search: caches of capacity C = max_len preallocated, the
  new position written in place at a *step tensor*, self-attention over all C slots with a
  mask built from that tensor, no row ever leaving. The same tokens as ``eager`` (the masked
  slots add exact zeros); more arithmetic, but a step whose every shape and address is fixed.
- ``graph``: ``static`` with the step captured once per search as a CUDA graph and replayed
  (one launch per step instead of hundreds: at batch 1 a step is launch-bound on a GPU).
  CUDA only: on another device it runs ``static`` eagerly (the same function).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from firescribe.engines.fireredasr.encoder import sinusoid_table

SMALL_BATCH_ROWS = 8
DECODER_MODES = ("eager", "static", "graph")


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


class StaticSelfAttentionCache:
    """Self-attention keys and values in fixed buffers [R, H, C, K] (C = the search's max_len),
    for a decoding step of fixed shapes and addresses (``static`` and ``graph`` modes).

    The step's position lives in a device tensor (``position``, long [1]), set before each
    step outside the step function: the step writes its keys/values at that slot
    (``index_copy_``) and attends over all C slots with the mask ``slots <= position``. A masked
    slot gets weight exactly 0, so the result is that of attending over slots 0..L. Beam
    selection reorders rows in place (through a spare buffer), so that the buffers keep their
    addresses (a CUDA graph reads them by address). Rows never leave."""

    fixed = True

    def __init__(self, n_layers: int, capacity: int, device: torch.device):
        self.capacity = capacity
        self.keys: list[Tensor | None] = [None] * n_layers
        self.values: list[Tensor | None] = [None] * n_layers
        self._spare: Tensor | None = None
        self.position = torch.zeros(1, dtype=torch.long, device=device)
        self.slots = torch.arange(capacity, device=device)
        self.mask: Tensor | None = None  # [1, 1, 1, C] bool, made by the step from ``position``
        self.length = 0

    def seek(self, position: int) -> None:
        """The next step decodes ``position`` (outside the step: a graph replays it as it is)."""
        if position >= self.capacity:
            raise ValueError(f"position {position} is past the static cache's capacity {self.capacity}")
        self.position.fill_(position)
        self.length = position

    def make_mask(self) -> None:
        self.mask = (self.slots <= self.position).view(1, 1, 1, -1)

    def attend(self, layer: int, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """As ``SelfAttentionCache.attend``: q, k, v [R, H, 1, K] -> [R, H, 1, K]."""
        if self.keys[layer] is None:  # first step: allocate (never inside a graph capture)
            r, h, _, d = k.shape
            self.keys[layer] = k.new_zeros(r, h, self.capacity, d)
            self.values[layer] = v.new_zeros(r, h, self.capacity, d)
        keys, values = self.keys[layer], self.values[layer]
        keys.index_copy_(2, self.position, k)
        values.index_copy_(2, self.position, v)
        return attend(q, keys, values, self.mask)

    def advance(self) -> None:
        self.length += 1

    def select(self, rows: Tensor) -> None:
        """Row r becomes the former row rows[r], in place (the buffers keep their addresses)."""
        if self.keys[0] is None:
            return
        n_rows = self.keys[0].shape[0]
        if len(rows) != n_rows:
            raise ValueError("a static cache keeps all its rows")
        if torch.equal(rows, torch.arange(n_rows, device=rows.device)):
            return
        L = self.length
        if self._spare is None:
            self._spare = torch.empty_like(self.keys[0])
        spare = self._spare[:, :, :L]
        for buf in self.keys + self.values:
            torch.index_select(buf[:, :, :L], 0, rows, out=spare)
            buf[:, :, :L] = spare


class CudaGraphStep:
    """``decoder.fixed_step`` captured as a CUDA graph over one state's fixed buffers: the
    tokens are copied into a static input, the graph replayed, the logits read from its static
    output (valid until the next replay). Built after one eager step has allocated the caches."""

    def __init__(self, decoder: TransformerDecoder, state: DecoderState, tokens: Tensor):
        self.tokens = tokens.clone()
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):  # a warm-up replay of the capture's work, as torch asks
            state.cache.seek(state.cache.length)
            decoder.fixed_step(self.tokens, state)
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.logits = decoder.fixed_step(self.tokens, state)

    def __call__(self, tokens: Tensor) -> Tensor:
        self.tokens.copy_(tokens)
        self.graph.replay()
        return self.logits


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
    cache: SelfAttentionCache | StaticSelfAttentionCache  # per layer, [R, H, L or C, K]
    beams: int
    mode: str = "eager"
    graph: CudaGraphStep | None = None  # ``graph`` mode on CUDA, once captured

    @property
    def fixed_rows(self) -> bool:
        """Whether rows must stay (a static cache): finished utterances stay in the batch."""
        return self.mode != "eager"

    def select(self, rows: Tensor, utts: Tensor | None = None) -> DecoderState:
        """Keep/reorder cache rows (beam selection); optionally keep only utterances ``utts``.
        The cache is reordered in place: the state this is called on is used up."""
        self.cache.select(rows)
        if utts is None:
            return self
        cross = [(k[utts], v[utts]) for k, v in self.cross]
        if self.fixed_rows:
            raise ValueError("a static decoder state keeps all its utterances")
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

    def init_state(self, enc: Tensor, enc_mask: Tensor, beams: int, mode: str = "eager", max_len: int = 0) -> DecoderState:
        """enc [N, T', D], enc_mask [N, 1, T'] bool; ``mode`` one of DECODER_MODES (``static``
        and ``graph`` need ``max_len``, the most steps the search takes)."""
        if mode not in DECODER_MODES:
            raise ValueError(f"decoder mode must be one of {DECODER_MODES}, not {mode!r}")
        cross = [layer.cross_kv(enc) for layer in self.layer_stack]
        cross_mask = None if bool(enc_mask.all()) else enc_mask.unsqueeze(1)
        if mode == "eager":
            return DecoderState(cross, cross_mask, SelfAttentionCache(len(self.layer_stack)), beams)
        if max_len <= 0:
            raise ValueError(f"the {mode} decoder needs the search's max_len")
        if mode == "graph" and enc.device.type != "cuda":
            mode = "static"  # graphs are CUDA's; the same step runs eagerly
        if cross_mask is not None:  # one [N, 1, 1, T'] tensor the graph reads by address
            cross_mask = cross_mask.contiguous()
        return DecoderState(cross, cross_mask, StaticSelfAttentionCache(len(self.layer_stack), max_len, enc.device), beams, mode)

    def fixed_step(self, tokens: Tensor, state: DecoderState) -> Tensor:
        """The ``static`` step: tokens [R] at the position in ``state.cache.position`` -> logits
        [R, odim]. Every shape fixed, no host synchronisation: capturable as a CUDA graph."""
        cache = state.cache
        cache.make_mask()
        x = (self.tgt_word_emb(tokens) * self.scale + self.pe.index_select(0, cache.position)).unsqueeze(1)  # [R, 1, D]
        for i, (layer, cross) in enumerate(zip(self.layer_stack, state.cross)):
            x = layer.step(x, cache, i, cross, state.cross_mask, state.beams)
        return linear(self.layer_norm_out(x[:, 0]), self.tgt_word_prj)

    def step(self, tokens: Tensor, position: int, state: DecoderState) -> tuple[Tensor, DecoderState]:
        """tokens [R] at ``position`` -> logits [R, odim] of the next token, and the state
        (updated in place) for the next step."""
        if state.mode != "eager":
            state.cache.seek(position)
            if state.graph is not None:
                logits = state.graph(tokens)
            elif state.mode == "graph" and position > 0:  # the caches exist: capture, then replay
                state.graph = CudaGraphStep(self, state, tokens)
                state.cache.seek(position)
                logits = state.graph(tokens)
            else:
                logits = self.fixed_step(tokens, state)
            state.cache.advance()
            return logits, state
        x = (self.tgt_word_emb(tokens) * self.scale + self.pe[position]).unsqueeze(1)  # [R, 1, D]
        for i, (layer, cross) in enumerate(zip(self.layer_stack, state.cross)):
            x = layer.step(x, state.cache, i, cross, state.cross_mask, state.beams)
        state.cache.advance()
        logits = linear(self.layer_norm_out(x[:, 0]), self.tgt_word_prj)
        return logits, state
