"""The full-size FireRedASR-AED-L of the benchmarks: random weights in the official format
(1.14 B parameters; compute does not depend on weight values), made once under
benchmarks/out/, and its variants."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import official  # noqa: E402  tests/official.py: random-weight checkpoints in the official format

from firescribe.engines.fireredasr.loader import LoadedModel, load_model_dir  # noqa: E402
from firescribe.engines.fireredasr.ort import OnnxAed  # noqa: E402
from firescribe.steps.prepare_model import prepare  # noqa: E402

MODEL_DIR = ROOT / "benchmarks" / "out" / "random-aed-l"
VARIANTS = ("fp32", "onnx-int8")  # torch fp32 on the released file; ONNX Runtime int8
ONNX_VARIANTS = {"onnx-fp32": "onnxruntime-fp32", "onnx-int8": "onnxruntime-int8"}


def load(variants: list[str], threads: int) -> tuple[LoadedModel, dict]:
    """The released-format model (made on first use) and the wanted variants, by name."""
    if not (MODEL_DIR / "model.pth.tar").exists():
        official.make_model_dir(MODEL_DIR, size=official.AED_L, logit_std=None)
    loaded = load_model_dir(MODEL_DIR)
    return loaded, {name: variant(loaded, name, threads) for name in variants}


def variant(loaded: LoadedModel, name: str, threads: int):
    """The variant ``name``: "fp32" (torch, the released file) or an ONNX Runtime one, prepared on first use
    as the workflow's prepare_model step does."""
    if name == "fp32":
        return loaded.model
    if name not in ONNX_VARIANTS:
        raise ValueError(f"unknown variant {name!r}; choose from fp32, {', '.join(ONNX_VARIANTS)}")
    prepared = MODEL_DIR.parent / "prepared-aed-l" / ONNX_VARIANTS[name]
    if not (prepared / "manifest.json").exists():
        prepare(MODEL_DIR, prepared, ONNX_VARIANTS[name])
    return OnnxAed(prepared, loaded.model.cfg, threads)
