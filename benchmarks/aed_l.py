"""The full-size FireRedASR-AED-L of the benchmarks: random weights in the official format
(1.14 B parameters; compute does not depend on weight values), made once under
benchmarks/out/, and its variants."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import official  # noqa: E402  tests/official.py: random-weight checkpoints in the official format

from firescribe.fireredasr.loader import LoadedModel, load_model_dir  # noqa: E402
from firescribe.fireredasr.ort import OnnxAed  # noqa: E402
from firescribe.fireredasr.prepare import prepare  # noqa: E402

MODEL_DIR = ROOT / "benchmarks" / "out" / "random-aed-l"
VARIANTS = ("fp32", "onnx-int8")  # torch fp32 on the released file; ONNX Runtime int8


def load(variants: list[str], threads: int) -> tuple[LoadedModel, dict]:
    """The released-format model (made on first use) and the wanted variants, by name."""
    if not (MODEL_DIR / "model.pth.tar").exists():
        official.make_model_dir(MODEL_DIR, size=official.AED_L, logit_std=None)
    loaded = load_model_dir(MODEL_DIR)
    models = {}
    for name in variants:
        if name == "fp32":
            models[name] = loaded.model
        elif name == "onnx-int8":
            prepared = MODEL_DIR.parent / "prepared-aed-l" / "onnxruntime-int8"
            if not (prepared / "manifest.json").exists():
                prepare(MODEL_DIR, prepared, "onnxruntime-int8")
            models[name] = OnnxAed(prepared, loaded.model.cfg, threads)
        else:
            raise ValueError(f"unknown variant {name!r}; choose from {VARIANTS}")
    return loaded, models
