"""Conformer encoder of FireRedASR-AED. Parameter names match the official checkpoint.

Shapes: N batch, T input frames, T' = encoder frames (T/4), D d_model, H heads, K = D/H.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# log(10000) taken in float32, as the official code does, so tables match bit for bit
_LOG_10000 = torch.log(torch.tensor(10000.0, device="cpu")).item()


def sinusoid_table(n_pos: int, d_model: int, positions: Tensor | None = None) -> Tensor:
    """[n_pos, D] sin/cos table (even dims sin, odd dims cos) for the given positions
    (default 0..n_pos-1 on the CPU), on the device of ``positions``."""
    pos = torch.arange(n_pos, dtype=torch.float32, device="cpu") if positions is None else positions.float()
    div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32, device=pos.device) * -(_LOG_10000 / d_model))
    angles = pos[:, None] * div  # [n_pos, D/2]
    return torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1).flatten(-2)  # interleaved


class Conv2dSubsampling(nn.Module):
    """[N, T, idim] -> [N, T', D] with two stride-2 3x3 convolutions (T' ~ T/4)."""

    context = 7  # frames of look-ahead the two convolutions need (3 left + current + 3 right)

    def __init__(self, idim: int, d_model: int, channels: int = 32):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, channels, 3, 2), nn.ReLU(), nn.Conv2d(channels, channels, 3, 2), nn.ReLU())
        self.out = nn.Linear(channels * (((idim - 1) // 2 - 1) // 2), d_model)

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """x [N, T, idim], mask [N, 1, T] (1 = frame) -> [N, T', D], mask [N, 1, T']."""
        x = self.conv(x.unsqueeze(1))  # [N, C, T', F']
        n, c, t, f = x.shape
        x = self.out(x.transpose(1, 2).reshape(n, t, c * f))
        return x, mask[:, :, :-2:2][:, :, :-2:2]


class FeedForward(nn.Module):
    """Pre-norm Swish FFN; returns ``x + ffn(x)`` (the residual is inside, as in the official)."""

    def __init__(self, d_model: int):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(d_model), nn.Linear(d_model, 4 * d_model), nn.SiLU(), nn.Dropout(0.0), nn.Linear(4 * d_model, d_model), nn.Dropout(0.0))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x) + x


def kernel_mask(bias: Tensor) -> Tensor:
    """``bias`` [N, H, T, T] as an attention mask the device's fused kernels accept.

    The CPU kernels read any strides, so ``rel_shift``'s view goes in as it is (a copy would
    add about half an attention call). CUDA's (cuDNN, memory-efficient) need rows at aligned
    addresses; the view starts at an odd element offset with rows 2T-2 apart, and fails
    there ("mha_graph.execute", a misaligned address, or CUBLAS_STATUS_EXECUTION_FAILED that
    leaves the CUDA context unusable), so off the CPU the mask is made contiguous."""
    if bias.device.type == "cpu" or bias.is_contiguous():
        return bias
    return bias.contiguous()


class RelPosSelfAttention(nn.Module):
    """Self-attention with relative positions (Transformer-XL style, separate q/k/v norms)."""

    def __init__(self, n_head: int, d_model: int):
        super().__init__()
        self.n_head, self.d_k = n_head, d_model // n_head
        self.layer_norm_q = nn.LayerNorm(d_model)
        self.layer_norm_k = nn.LayerNorm(d_model)
        self.layer_norm_v = nn.LayerNorm(d_model)
        self.w_qs = nn.Linear(d_model, d_model, bias=False)
        self.w_ks = nn.Linear(d_model, d_model, bias=False)
        self.w_vs = nn.Linear(d_model, d_model, bias=False)
        self.linear_pos = nn.Linear(d_model, d_model, bias=False)
        self.pos_bias_u = nn.Parameter(torch.zeros(n_head, self.d_k))
        self.pos_bias_v = nn.Parameter(torch.zeros(n_head, self.d_k))
        self.fc = nn.Linear(d_model, d_model, bias=False)

    def heads(self, x: Tensor) -> Tensor:
        """[N, T, D] -> [N, H, T, K]"""
        return x.view(x.shape[0], x.shape[1], self.n_head, self.d_k).transpose(1, 2)

    @staticmethod
    def rel_shift(x: Tensor) -> Tensor:
        """[N, H, T, 2T-1] scores by relative offset (column k = offset T-1-k) -> [N, H, T, T]
        scores by key position: out[..., i, j] = x[..., i, T-1-i+j]. A strided view of ``x``
        (the same elements the official pad-and-reshape picks, without copying them)."""
        n, h, t, t2 = x.shape
        x = x.contiguous()
        s = x.stride()
        return x.as_strided((n, h, t, t), (s[0], s[1], t2 - 1, 1), x.storage_offset() + t - 1)

    def forward(self, x: Tensor, pos_emb: Tensor, key_mask: Tensor | None, scratch: Tensor | None = None) -> Tensor:
        """x [N, T, D], pos_emb [1, 2T-1, D], key_mask [N, 1, 1, T] bool (True = attend) or
        None (no padding); scratch: an [N, H, T, 2T-1] buffer for the position scores, reused
        by every layer (a fresh one of this size - 360 MB at 60 s - costs ~0.1 s of page
        faults per layer)."""
        q = self.heads(self.w_qs(self.layer_norm_q(x)))
        k = self.heads(self.w_ks(self.layer_norm_k(x)))
        v = self.heads(self.w_vs(self.layer_norm_v(x)))
        p = self.heads(self.linear_pos(pos_emb))  # [1, H, 2T-1, K]
        scale = 1.0 / math.sqrt(self.d_k)
        # position term (q + v_bias) . p, shifted to key positions, enters as an additive bias
        # (scaled before the product: exact where the scale is a power of two, as for K = 64)
        bias = self.rel_shift(torch.matmul((q + self.pos_bias_v[:, None]) * scale, p.transpose(-2, -1), out=scratch))
        if key_mask is not None:
            bias = bias.masked_fill(~key_mask, float("-inf"))
        out = F.scaled_dot_product_attention(q + self.pos_bias_u[:, None], k, v, attn_mask=kernel_mask(bias), scale=scale)
        out = out.transpose(1, 2).reshape(x.shape)
        return self.fc(out) + x


class ConvModule(nn.Module):
    """The pointwise (kernel-size-1) convolutions are computed as the linear layers they are,
    on [N, T, C]: no transposes, and quantizable like every linear.

    Pointwise conv + GLU, depthwise conv, LayerNorm, Swish, pointwise conv (residual)."""

    def __init__(self, d_model: int, kernel_size: int):
        super().__init__()
        self.pre_layer_norm = nn.LayerNorm(d_model)
        self.pointwise_conv1 = nn.Linear(d_model, 4 * d_model, bias=False)  # 1x1 conv [out, in, 1] in the checkpoint
        self.depthwise_conv = nn.Conv1d(2 * d_model, 2 * d_model, kernel_size, padding=(kernel_size - 1) // 2, groups=2 * d_model, bias=False)
        self.batch_norm = nn.LayerNorm(2 * d_model)  # named so in the checkpoint; it is a LayerNorm
        self.pointwise_conv2 = nn.Linear(2 * d_model, d_model, bias=False)  # likewise

    def forward(self, x: Tensor, pad: Tensor | None) -> Tensor:
        """x [N, T, D], pad [N, T, 1] bool (True = padding frame) or None (no padding)."""
        y = self.pre_layer_norm(x)
        if pad is not None:
            y = y.masked_fill(pad, 0.0)
        y = F.glu(self.pointwise_conv1(y), dim=-1)  # [N, T, 2D]
        y = self.depthwise_conv(y.transpose(1, 2)).transpose(1, 2)  # [N, T, 2D]
        y = self.pointwise_conv2(F.silu(self.batch_norm(y)))  # [N, T, D]
        if pad is not None:
            y = y.masked_fill(pad, 0.0)
        return y + x


class ConformerBlock(nn.Module):
    def __init__(self, d_model: int, n_head: int, kernel_size: int):
        super().__init__()
        self.ffn1 = FeedForward(d_model)
        self.mhsa = RelPosSelfAttention(n_head, d_model)
        self.conv = ConvModule(d_model, kernel_size)
        self.ffn2 = FeedForward(d_model)
        self.layer_norm = nn.LayerNorm(d_model)

    def forward(self, x: Tensor, pos_emb: Tensor, key_mask: Tensor | None, pad: Tensor | None, scratch: Tensor | None = None) -> Tensor:
        x = 0.5 * x + 0.5 * self.ffn1(x)  # = x + ffn/2: macaron half-step
        x = self.mhsa(x, pos_emb, key_mask, scratch)
        x = self.conv(x, pad)
        x = 0.5 * x + 0.5 * self.ffn2(x)
        return self.layer_norm(x)


class ConformerEncoder(nn.Module):
    def __init__(self, idim: int, n_layers: int, n_head: int, d_model: int, kernel_size: int, pe_maxlen: int):
        super().__init__()
        self.d_model, self.pe_maxlen = d_model, pe_maxlen
        self.input_preprocessor = Conv2dSubsampling(idim, d_model)
        self.layer_stack = nn.ModuleList(ConformerBlock(d_model, n_head, kernel_size) for _ in range(n_layers))

    def relative_positions(self, t: int, device: torch.device) -> Tensor:
        """[1, 2T-1, D] encodings of offsets T-1, ..., 0, ..., -(T-1), built on ``device``."""
        if t > self.pe_maxlen:
            raise ValueError(f"{t} encoder frames exceed the model's positional range {self.pe_maxlen}")
        return sinusoid_table(2 * t - 1, self.d_model, torch.arange(t - 1, -t, -1, device=device)).unsqueeze(0)

    def embed(self, feats: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """feats [N, T, idim], lengths [N] -> x [N, T', D], mask [N, 1, T'] bool (True =
        frame), relative position encodings [1, 2T'-1, D]: the input of the first block."""
        feats = F.pad(feats, (0, 0, 0, Conv2dSubsampling.context - 1))
        frames = torch.arange(feats.shape[1], device=feats.device)
        mask = (frames[None, :] < lengths[:, None]).unsqueeze(1)  # [N, 1, T]
        x, mask = self.input_preprocessor(feats, mask)
        return x, mask, self.relative_positions(x.shape[1], x.device).to(x.dtype)

    def forward(self, feats: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """feats [N, T, idim], lengths [N] -> output [N, T', D], mask [N, 1, T'] bool (True = frame)."""
        x, mask, pos_emb = self.embed(feats, lengths)
        key_mask, pad = mask.unsqueeze(1), ~mask.transpose(1, 2)  # [N, 1, 1, T'], [N, T', 1]
        if bool(mask.all()):  # no padding: skip masking
            key_mask, pad = None, None
        n, t = x.shape[:2]
        # one buffer for every layer's position scores (out= works only without autograd)
        scratch = None if torch.is_grad_enabled() else x.new_empty(n, self.layer_stack[0].mhsa.n_head, t, 2 * t - 1)
        for layer in self.layer_stack:
            x = layer(x, pos_emb, key_mask, pad, scratch)
        return x, mask
