"""Numeric variants of a loaded FireRedASR-AED model.

- ``fp32``: the released weights as they are (memory-mapped, shared by parallel jobs).
- ``int8``: every ``nn.Linear`` (attention projections, feed-forward, output layer; >97% of
  the parameters) replaced by torch's dynamically quantized linear: weights int8 per
  tensor, activations quantized per batch at run time, int32 accumulation (fbgemm on x86,
  qnnpack on ARM). The model is converted in place. Convolutions, norms and embeddings stay fp32.
  The int8 weights live in each process (a quantized model cannot be memory-mapped), about a
  quarter of the fp32 size. Results differ slightly from fp32: see tests/test_precision.py.
- ``fp16``, ``bf16``: half-precision weights and compute, for CUDA only (CPUs lack fast
  half-precision GEMM: they run there, slowly). fp16 has the finer mantissa, bf16 fp32's range. Scores are summed in
  fp32 either way (the beam search's log-softmax and the CTC head's, on fp32 logits).

``torch.ao.quantization`` is deprecated upstream in favour of torchao; it works on the
pinned torch 2.13. ONNX Runtime's quantizer is the longer-lived route: the ``onnxruntime``
runtime's int8 variant (``prepare.py``).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

PRECISIONS = ("fp32", "int8", "fp16", "bf16")
# the compute dtype of each precision whose weights are a plain dtype (int8's are quantized)
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
HALF = ("fp16", "bf16")


def to_precision(model: nn.Module, precision: str, device: str = "cpu") -> nn.Module:
    """``model`` (fp32, on the CPU) converted to ``precision`` and moved to ``device`` in one
    pass (a half-precision model never holds fp32 weights on the GPU)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if precision == "int8":
        if device != "cpu":
            raise ValueError("int8 (dynamic quantization) runs on the CPU only; use fp16 on CUDA")
        with warnings.catch_warnings():
            # torch.ao.quantization announces its move to torchao; it works on the pinned torch
            warnings.filterwarnings("ignore", message="torch.ao.quantization is deprecated", category=DeprecationWarning)
            warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*deprecated", category=UserWarning)
            # in place: a copy would first duplicate every memory-mapped fp32 weight privately
            return torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8, inplace=True)
    # fp16/bf16 also run on the CPU (slowly: the tests and the benchmark's CPU mode use that);
    # a job without a GPU runs fp32 instead (the backend decides)
    return model.to(device=device, dtype=DTYPES[precision])
