"""FireRedASR-AED in the ONNX format sherpa-onnx's FireRedASR recognizer reads (benchmark only).

The interface is the one of sherpa-onnx's released ``sherpa-onnx-fire-red-asr-large-zh_en``
model, as its recognizer (``offline-fire-red-asr-model.cc``, greedy search in
``offline-fire-red-asr-greedy-search-decoder.cc``) and its test script name it:

``encoder.onnx``
    x [1, T, 80] float32 (fbank after CMVN, which sherpa-onnx applies from the metadata),
    x_len [1] int64 -> n_layer_cross_k, n_layer_cross_v [layers, 1, T', D]
    metadata: num_decoder_layers, num_head, head_dim, sos, eos, max_len, cmvn_mean,
    cmvn_inv_stddev (comma-separated)
``decoder.onnx``
    tokens [1, 1] int64, in_n_layer_self_k_cache / in_n_layer_self_v_cache
    [layers, 1, max_len, H, K], n_layer_cross_k / n_layer_cross_v [layers, 1, T', D],
    offset [1] int64 -> logits [1, 1, V], out_n_layer_self_k_cache / out_..._v (same shape)

Inside, the graphs run our modules (``DecoderLayer.step``), so at fp32 they compute what our
engine computes. Where the interface leaves room, the cheapest choice is taken, so that the
peer is not slowed by our export: the self-attention reads only the ``offset`` filled
positions, and the new keys/values of all layers enter the output caches in one scatter
(the interface itself makes every step copy the whole cache into its output, and re-lay the
cross keys/values [T', D] into heads).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from firescribe.engines.fireredasr import decoder  # its attend, as patched while exporting
from firescribe.engines.fireredasr.export import EncoderGraph, _export, onnx_algorithms, save_with_external_data
from firescribe.engines.fireredasr.features import read_cmvn
from firescribe.engines.fireredasr.model import FireRedAed

MAX_LEN = 1024  # decoder self-attention cache length of sherpa-onnx's released FireRedASR-AED-L
ENCODER, DECODER, TOKENS = "encoder.onnx", "decoder.onnx", "tokens.txt"


class SherpaEncoder(nn.Module):
    """feats [1, T, 80], lengths [1] -> every decoder layer's cross keys and values, stacked
    [layers, 1, T', D] (heads not split: the decoder splits them)."""

    def __init__(self, model: FireRedAed):
        super().__init__()
        self.encoder = EncoderGraph(model)
        self.layers = model.decoder.layer_stack

    def forward(self, x: Tensor, x_len: Tensor) -> tuple[Tensor, Tensor]:
        enc = self.encoder(x, x_len)[0]  # [1, T', D]
        keys = torch.stack([layer.cross_attn.w_ks(enc) for layer in self.layers])
        values = torch.stack([layer.cross_attn.w_vs(enc) for layer in self.layers])
        return keys, values


class _FixedCache:
    """Stands in for ``SelfAttentionCache`` in one traced step: layer i attends to the
    ``offset`` filled positions of the input cache [layers, 1, max_len, H, K] and this step's
    key/value; the new keys/values are collected for the output caches."""

    def __init__(self, keys: Tensor, values: Tensor, offset: Tensor):
        self.keys, self.values, self.offset = keys, values, offset
        self.new_keys: list[Tensor] = []
        self.new_values: list[Tensor] = []

    def attend(self, layer: int, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """q, k, v [1, H, 1, K] -> [1, H, 1, K], over the filled positions and this one."""
        self.new_keys.append(k)
        self.new_values.append(v)
        end = self.offset[0]
        past_k = self.keys[layer, :, :end].transpose(1, 2)  # [1, H, offset, K]
        past_v = self.values[layer, :, :end].transpose(1, 2)
        return decoder.attend(q, torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2))

    def written(self, cache: Tensor, new: list[Tensor]) -> Tensor:
        """``cache`` with position ``offset`` of every layer set to ``new`` (one scatter)."""
        new = torch.stack(new).transpose(2, 3)  # [layers, 1, 1, H, K]
        index = self.offset.view(1, 1, 1, 1, 1).expand(new.shape)
        return cache.scatter(2, index, new)


class SherpaDecoderStep(nn.Module):
    """One greedy decoding step in sherpa-onnx's interface (see the module docstring)."""

    def __init__(self, model: FireRedAed):
        super().__init__()
        self.decoder = model.decoder

    def forward(self, tokens: Tensor, k_cache: Tensor, v_cache: Tensor, cross_k: Tensor, cross_v: Tensor, offset: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        dec = self.decoder
        cache = _FixedCache(k_cache, v_cache, offset)
        x = dec.tgt_word_emb(tokens) * dec.scale + dec.pe.index_select(0, offset)  # [1, 1, D]
        for i, layer in enumerate(dec.layer_stack):
            ca = layer.cross_attn
            cross = (ca.heads(cross_k[i]), ca.heads(cross_v[i]))  # [1, H, T', K]
            x = layer.step(x, cache, i, cross, None, 1)
        logits = dec.tgt_word_prj(dec.layer_norm_out(x))  # [1, 1, V]
        return logits, cache.written(k_cache, cache.new_keys), cache.written(v_cache, cache.new_values)


def _add_metadata(path: Path, meta: dict[str, str]) -> None:
    import onnx

    proto = onnx.load(str(path))
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    save_with_external_data(proto, path)


@torch.inference_mode(False)
def export_sherpa(model: FireRedAed, model_dir: Path, out_dir: Path) -> Path:
    """fp32 graphs, metadata and tokens.txt of the released model folder ``model_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = model.cfg
    layers, heads, d_k = cfg.n_layers_dec, cfg.n_head, cfg.d_model // cfg.n_head
    with torch.no_grad(), onnx_algorithms():
        feats, lengths = torch.randn(1, 120, cfg.idim), torch.tensor([120])
        axes = {"x": {1: "T"}, "n_layer_cross_k": {2: "T_enc"}, "n_layer_cross_v": {2: "T_enc"}}
        _export(SherpaEncoder(model), (feats, lengths), out_dir / ENCODER, ["x", "x_len"], ["n_layer_cross_k", "n_layer_cross_v"], axes)

        t_enc, offset = 27, 4
        cache = torch.randn(layers, 1, MAX_LEN, heads, d_k)
        cross = torch.randn(layers, 1, t_enc, cfg.d_model)
        args = (torch.tensor([[cfg.sos_id]]), cache, cache.clone(), cross, cross.clone(), torch.tensor([offset]))
        inputs = ["tokens", "in_n_layer_self_k_cache", "in_n_layer_self_v_cache", "n_layer_cross_k", "n_layer_cross_v", "offset"]
        outputs = ["logits", "out_n_layer_self_k_cache", "out_n_layer_self_v_cache"]
        _export(SherpaDecoderStep(model), args, out_dir / DECODER, inputs, outputs, {"n_layer_cross_k": {2: "T_enc"}, "n_layer_cross_v": {2: "T_enc"}})

    mean, inv_std = read_cmvn(model_dir / "cmvn.ark")
    meta = {"model_type": "fire-red-asr-aed", "num_decoder_layers": layers, "num_head": heads, "head_dim": d_k}
    meta |= {"sos": cfg.sos_id, "eos": cfg.eos_id, "max_len": MAX_LEN}
    # float32 values with 9 significant digits: they read back bit-exact
    meta |= {name: ",".join(f"{x:.9g}" for x in np.asarray(v, dtype=np.float32)) for name, v in (("cmvn_mean", mean), ("cmvn_inv_stddev", inv_std))}
    _add_metadata(out_dir / ENCODER, {k: str(v) for k, v in meta.items()})
    # dict.txt already holds "token id" per line, the layout of sherpa-onnx's tokens.txt
    (out_dir / TOKENS).write_bytes((model_dir / "dict.txt").read_bytes())
    return out_dir


def quantize_sherpa(fp32_dir: Path, out_dir: Path) -> Path:
    """INT8 copies as sherpa-onnx makes its released int8 models: onnxruntime dynamic
    quantization of the MatMul weights, int8, per tensor."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (ENCODER, DECODER):
        with tempfile.TemporaryDirectory(dir=out_dir, prefix=".quantize-") as tmp:
            raw = Path(tmp) / name
            quantize_dynamic(fp32_dir / name, raw, op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8, use_external_data_format=True)
            save_with_external_data(onnx.load(str(raw)), out_dir / name)
    (out_dir / TOKENS).write_bytes((fp32_dir / TOKENS).read_bytes())
    return out_dir


def recognizer(folder: Path, threads: int):
    """sherpa-onnx's OfflineRecognizer on the graphs in ``folder`` (greedy search)."""
    import sherpa_onnx

    return sherpa_onnx.OfflineRecognizer.from_fire_red_asr(
        encoder=str(folder / ENCODER), decoder=str(folder / DECODER), tokens=str(folder / TOKENS), num_threads=threads
    )


def greedy_steps(n_samples: int, sample_rate: int = 16000) -> int:
    """How many tokens sherpa-onnx 2.0.1's greedy search decodes at most: 8 per second of
    feature frames, at most max_len / 2 (measured: its source on GitHub now says 6). A model
    that never emits EOS decodes exactly these."""
    frames = 1 + (n_samples - sample_rate * 25 // 1000) // (sample_rate // 100)  # 25 ms windows, 10 ms shift, snip_edges
    return min(frames * 8 // 100, MAX_LEN // 2)


def decode(rec, audio: np.ndarray, token_ids: dict[str, int]) -> list[int]:
    """audio float32 in [-1, 1) at 16 kHz -> token ids of sherpa-onnx's greedy result."""
    stream = rec.create_stream()
    stream.accept_waveform(16000, audio)
    rec.decode_stream(stream)
    return [token_ids[t] for t in stream.result.tokens]
