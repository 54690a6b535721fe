"""Convert a released FireRedASR-AED folder, once, into the form a variant runs from.

Variants are ``<runtime>-<precision>``:

- ``torch-fp32``: nothing to convert (the released zip checkpoint is memory-mapped as it is);
  the step checks that it loads.
- ``torch-int8``: nothing stored; torch's dynamic quantization runs at load time (seconds).
- ``torch-fp16``: ``model.pth.tar`` with half-precision weights (for CUDA), memory-mappable.
- ``onnxruntime-fp32``: the ONNX graphs of ``export.py``.
- ``onnxruntime-int8``: the same graphs, dynamically quantized by onnxruntime.

The prepared folder holds ``manifest.json`` (variant, format of its files, source folder,
the network's config) and the converted files. It is written beside its final place and renamed into it, so an
interrupted preparation never leaves a half-written folder behind.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import time
from pathlib import Path

import torch

from firescribe.engines.fireredasr.export import export_onnx, quantize_int8
from firescribe.engines.fireredasr.loader import check_model_dir, load_checkpoint, load_model_dir
from firescribe.engines.fireredasr.prepared import MANIFEST
from firescribe.settings import FIREREDASR_VARIANTS

log = logging.getLogger(__name__)

def prepare(model_dir: str | Path, out_dir: str | Path, variant: str) -> dict:
    """Write the prepared folder ``out_dir`` for ``variant`` of the model in ``model_dir``."""
    if variant not in FIREREDASR_VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(FIREREDASR_VARIANTS)}")
    src, out = check_model_dir(model_dir).resolve(), Path(out_dir)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    t0 = time.time()
    loaded = load_model_dir(src)  # also checks every file
    model, files = loaded.model, []
    if variant == "torch-fp16":
        args, state = load_checkpoint(src / "model.pth.tar")
        half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        torch.save({"args": args, "model_state_dict": half}, tmp / "model.pth.tar")
        files = ["model.pth.tar"]
    elif variant == "onnxruntime-fp32":
        log.info("exporting %s to ONNX", src)
        files = export_onnx(model, tmp)
    elif variant == "onnxruntime-int8":
        log.info("exporting %s to ONNX", src)
        export_onnx(model, tmp / "fp32")
        log.info("quantizing the ONNX graphs to int8")
        files = quantize_int8(tmp / "fp32", tmp)
        shutil.rmtree(tmp / "fp32")
    manifest = {
        "variant": variant,
        "format": FIREREDASR_VARIANTS[variant],
        "model_dir": str(src),
        "config": dataclasses.asdict(model.cfg),
        "ctc": model.ctc is not None,
        "files": files,
        "seconds": round(time.time() - t0, 1),
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    log.info("prepared %s in %s (%.0f s)", variant, out, manifest["seconds"])
    return manifest
