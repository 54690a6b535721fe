"""Export FireRedASR-AED to ONNX (encoder, and one cached decoder step), optionally INT8.

Three graphs, written with their weights as external data (AED-L is over protobuf's 2 GB):

``encoder.onnx``
    feats [N, T, 80] float32, lengths [N] int64
    -> enc [N, T', D], mask [N, 1, T'] bool, and for FireRedASR2 ctc_log_probs [N, T', V]
``cross.onnx``
    enc [N, T', D] -> cross_k_i, cross_v_i [N, H, T', K] for every decoder layer i
    (once per utterance, as our torch decoder does)
``decoder.onnx``
    tokens [R] int64, position [] int64 (L, the number of decoded positions before this one),
    cross_mask [N, 1, 1, T'] bool, cross_k_i, cross_v_i [N, H, T', K],
    past_k_i, past_v_i [R, H, C, K] (the engine's cache buffers, C >= L; positions >= L unused)
    -> logits [R, V], new_k_i, new_v_i [R, H, 1, K] (this position's, for the engine to store)

R = N * beams. The graphs run our modules (the code the torch engine runs), with three
algorithms swapped for ones ONNX expresses well while exporting (``onnx_algorithms``), so
ONNX Runtime and torch agree to float tolerance (tests/test_onnx.py). The decoder step reads
the cache buffers in place and returns only the new position (``attend_over_buffer``): no
step copies the cache (a graph that concatenated past and new keys copied all of it, per
layer, every step).

INT8: onnxruntime's dynamic quantization of every MatMul with a constant weight (int8
weights per output channel, in 7 bits, activations quantized at run time) - the scheme of
torch's ``quantize_dynamic``, in files prepared once.
"""

from __future__ import annotations

import contextlib
import logging
import math
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from firescribe.engines.fireredasr import decoder
from firescribe.engines.fireredasr.encoder import RelPosSelfAttention
from firescribe.engines.fireredasr.model import FireRedAed

# onnx (~0.7 s) and onnxruntime.quantization (~0.8 s) are imported where used: every
# FireRedASR job imports this module (ort.py reads its graph names), few export

OPSET = 17
ENCODER_FILE, CROSS_FILE, DECODER_FILE = "encoder.onnx", "cross.onnx", "decoder.onnx"
GRAPHS = (ENCODER_FILE, CROSS_FILE, DECODER_FILE)


def rel_shift_by_padding(x: Tensor) -> Tensor:
    """``RelPosSelfAttention.rel_shift`` as the official code computes it, pad and reshape:
    ONNX has no strided views. [N, H, T, 2T-1] -> [N, H, T, T]."""
    n, h, t, t2 = x.shape
    x = F.pad(x, (1, 0)).view(n, h, t2 + 1, t)[:, :, 1:].reshape(n, h, t, t2)
    return x[:, :, :, :t]


def attend_unfused(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None) -> Tensor:
    """``decoder.attend`` written out, the scale on the queries: the exporter's fused form
    also scales the keys, a pass over all cached keys at every decoding step."""
    scores = torch.matmul(q * (1.0 / math.sqrt(q.shape[-1])), k.transpose(-2, -1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.matmul(torch.softmax(scores, dim=-1), v)


def linear_as_layer(x: Tensor, layer: nn.Module) -> Tensor:
    """``decoder.linear`` as the layer itself: a MatMul with the weight as its constant B
    input, which onnxruntime's INT8 quantization recognizes (W @ x^T would not be)."""
    return layer(x)


@contextlib.contextmanager
def onnx_algorithms() -> Iterator[None]:
    """While exporting, the torch engine's CPU-specific algorithms give way to the three above."""
    with (
        mock.patch.object(RelPosSelfAttention, "rel_shift", staticmethod(rel_shift_by_padding)),
        mock.patch.object(decoder, "attend", attend_unfused),
        mock.patch.object(decoder, "linear", linear_as_layer),
    ):
        yield


class EncoderGraph(nn.Module):
    """What the encoder graph computes: the encoder, and FireRedASR2's CTC head. Padding is
    always masked (one graph serves every batch) and no scratch buffer is reused (a graph
    records no buffers)."""

    def __init__(self, model: FireRedAed):
        super().__init__()
        self.model = model

    def forward(self, feats: Tensor, lengths: Tensor) -> tuple[Tensor, ...]:
        encoder = self.model.encoder
        x, mask, pos_emb = encoder.embed(feats, lengths)
        key_mask, pad = mask.unsqueeze(1), ~mask.transpose(1, 2)  # [N, 1, 1, T'], [N, T', 1]
        for layer in encoder.layer_stack:
            x = layer(x, pos_emb, key_mask, pad)
        return (x, mask, self.model.ctc(x)) if self.model.ctc is not None else (x, mask)


class CrossGraph(nn.Module):
    """What the cross graph computes: every decoder layer's cross-attention keys/values."""

    def __init__(self, model: FireRedAed):
        super().__init__()
        self.decoder = model.decoder

    def forward(self, enc: Tensor) -> tuple[Tensor, ...]:
        return tuple(t for layer in self.decoder.layer_stack for t in layer.cross_kv(enc))


def attend_over_buffer(q: Tensor, k: Tensor, v: Tensor, past_k: Tensor, past_v: Tensor, length: Tensor) -> Tensor:
    """Self-attention of a new position over the first ``length`` positions of cache buffers
    past_k, past_v [R, H, C, K] and its own key/value k, v [R, H, 1, K], without joining them
    (a copy of the buffers): two sets of scores, one softmax. q [R, H, 1, K] -> [R, H, 1, K]."""
    q = q * (1.0 / math.sqrt(q.shape[-1]))
    capacity = past_k.shape[2]
    past_scores = torch.matmul(q, past_k.transpose(-2, -1))  # [R, H, 1, C]
    past_scores = past_scores.masked_fill(torch.arange(capacity) >= length, float("-inf"))
    p = torch.softmax(torch.cat([past_scores, torch.matmul(q, k.transpose(-2, -1))], dim=-1), dim=-1)  # [R, H, 1, C+1]
    return torch.matmul(p[..., :capacity], past_v) + p[..., capacity:] * v


class _StepCache:
    """Stands in for the decoder's SelfAttentionCache while tracing one step: each layer's
    cache buffers come in as inputs, and this position's keys/values leave as outputs."""

    def __init__(self, past: list[tuple[Tensor, Tensor]], length: Tensor):
        self.past, self.length, self.new = past, length, []

    def attend(self, layer: int, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        self.new.append((k, v))
        return attend_over_buffer(q, k, v, *self.past[layer], self.length)


class DecoderStepGraph(nn.Module):
    """What the decoder graph computes: one step of ``TransformerDecoder.step``."""

    def __init__(self, model: FireRedAed):
        super().__init__()
        self.decoder = model.decoder

    def forward(self, tokens: Tensor, position: Tensor, cross_mask: Tensor, *caches: Tensor) -> tuple[Tensor, ...]:
        dec = self.decoder
        n_layers = len(dec.layer_stack)
        cross = [(caches[2 * i], caches[2 * i + 1]) for i in range(n_layers)]
        past = [(caches[2 * (n_layers + i)], caches[2 * (n_layers + i) + 1]) for i in range(n_layers)]
        cache = _StepCache(past, position)
        x = (dec.tgt_word_emb(tokens) * dec.scale + dec.pe.index_select(0, position.view(1))).unsqueeze(1)  # [R, 1, D]
        beams = tokens.shape[0] // cross[0][0].shape[0]
        for i, layer in enumerate(dec.layer_stack):
            x = layer.step(x, cache, i, cross[i], cross_mask, beams)
        logits = dec.tgt_word_prj(dec.layer_norm_out(x))[:, 0]  # [R, V] (3-D input: a quantizable MatMul)
        return (logits, *[t for kv in cache.new for t in kv])


def cross_names(n_layers: int) -> list[str]:
    return [f"cross_{kv}_{i}" for i in range(n_layers) for kv in "kv"]


def past_names(n_layers: int) -> list[str]:
    return [f"past_{kv}_{i}" for i in range(n_layers) for kv in "kv"]


def new_names(n_layers: int) -> list[str]:
    return [f"new_{kv}_{i}" for i in range(n_layers) for kv in "kv"]


def _export(module: nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str], axes: dict) -> None:
    """Export into a scratch folder (the exporter may write one file per weight there), then
    save the graph at ``path`` with all weights in one ``<name>.data`` file beside it
    (memory-mappable, and the only way past protobuf's 2 GB limit)."""
    import onnx

    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as tmp:
        raw = Path(tmp) / path.name
        with warnings.catch_warnings():
            # the TorchScript-based exporter is deprecated in favour of the torch.export one,
            # which needs onnxscript; this one traces our modules as they are
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message="Constant folding - Only steps=1")  # slices stay dynamic: wanted
            torch.onnx.export(module, args, str(raw), dynamo=False, opset_version=OPSET, input_names=inputs, output_names=outputs, dynamic_axes=axes, do_constant_folding=True)
        save_with_external_data(onnx.load(str(raw)), path)


def save_with_external_data(proto, path: Path) -> None:
    import onnx

    onnx.save_model(proto, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location=path.name + ".data", size_threshold=1024)


@torch.inference_mode(False)
def export_onnx(model: FireRedAed, out_dir: str | Path) -> list[str]:
    """Write the three graphs (fp32) for ``model`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg, n_layers = model.cfg, model.cfg.n_layers_dec
    heads, d_k = cfg.n_head, cfg.d_model // cfg.n_head
    with torch.no_grad(), onnx_algorithms():
        # encoder: two utterances of unequal length, so padding and masks are traced
        feats = torch.randn(2, 120, cfg.idim)
        lengths = torch.tensor([120, 90])
        outputs = ["enc", "mask"] + (["ctc_log_probs"] if model.ctc is not None else [])
        axes = {"feats": {0: "N", 1: "T"}, "lengths": {0: "N"}, "enc": {0: "N", 1: "T_enc"}, "mask": {0: "N", 2: "T_enc"}}
        axes |= {"ctc_log_probs": {0: "N", 1: "T_enc"}} if model.ctc is not None else {}
        _export(EncoderGraph(model), (feats, lengths), out / ENCODER_FILE, ["feats", "lengths"], outputs, axes)

        enc = torch.randn(2, 27, cfg.d_model)
        axes = {"enc": {0: "N", 1: "T_enc"}} | {name: {0: "N", 2: "T_enc"} for name in cross_names(n_layers)}
        _export(CrossGraph(model), (enc,), out / CROSS_FILE, ["enc"], cross_names(n_layers), axes)

        # decoder step: 2 utterances x 3 beams, 4 positions decoded in buffers of 8
        n, beams, t_enc, past_len, capacity = 2, 3, 27, 4, 8
        cross = [torch.randn(n, heads, t_enc, d_k) for _ in range(2 * n_layers)]
        past = [torch.randn(n * beams, heads, capacity, d_k) for _ in range(2 * n_layers)]
        tokens = torch.full((n * beams,), cfg.sos_id, dtype=torch.long)
        cross_mask = torch.ones(n, 1, 1, t_enc, dtype=torch.bool)
        inputs = ["tokens", "position", "cross_mask"] + cross_names(n_layers) + past_names(n_layers)
        outputs = ["logits"] + new_names(n_layers)
        axes = {"tokens": {0: "R"}, "cross_mask": {0: "N", 3: "T_enc"}, "logits": {0: "R"}}
        axes |= {name: {0: "N", 2: "T_enc"} for name in cross_names(n_layers)}
        axes |= {name: {0: "R", 2: "C"} for name in past_names(n_layers)}
        axes |= {name: {0: "R"} for name in new_names(n_layers)}
        args = (tokens, torch.tensor(past_len), cross_mask, *cross, *past)
        _export(DecoderStepGraph(model), args, out / DECODER_FILE, inputs, outputs, axes)
    return list(GRAPHS)


def quantize_int8(src_dir: str | Path, out_dir: str | Path) -> list[str]:
    """INT8 copies of the fp32 graphs in ``src_dir`` (onnxruntime dynamic quantization)."""
    src, out = Path(src_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    hint = _DropMessage("Please consider to run pre-processing")  # shape inference: not needed here
    root.addFilter(hint)
    try:
        _quantize_graphs(src, out)
    finally:
        root.removeFilter(hint)
    return list(GRAPHS)


class _DropMessage(logging.Filter):
    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def _quantize_graphs(src: Path, out: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    for name in GRAPHS:
        with tempfile.TemporaryDirectory(dir=out, prefix=".quantize-") as tmp:
            raw = Path(tmp) / name
            # reduce_range: 7-bit weights, so that AVX2 kernels (u8 x s8 pairs summed in int16)
            # cannot saturate: measured 12% relative error on the encoder output without, 1.4% with
            quantize_dynamic(
                src / name, raw, op_types_to_quantize=["MatMul"], per_channel=True, reduce_range=True, weight_type=QuantType.QInt8, use_external_data_format=True
            )
            save_with_external_data(onnx.load(str(raw)), out / name)
