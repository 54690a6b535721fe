"""Load a released FireRedASR-AED model directory, unchanged, safely and memory-mapped.

* ``torch.load(weights_only=True)``: only tensors and the checkpoint's ``argparse.Namespace``
  may be unpickled, never arbitrary objects.
* ``mmap=True``: weights stay in the page cache, shared by every process that loads the same
  file, so parallel ASR jobs hold one copy of the model between them.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from firescribe.engines.fireredasr.encoder import sinusoid_table
from firescribe.engines.fireredasr.errors import ModelFileError
from firescribe.engines.fireredasr.features import FbankCmvn
from firescribe.engines.fireredasr.model import AedConfig, FireRedAed
from firescribe.engines.fireredasr.tokenizer import TokenDict

log = logging.getLogger(__name__)

MODEL_FILES = ("model.pth.tar", "cmvn.ark", "dict.txt")
OPTIONAL_FILES = ("train_bpe1000.model",)
# buffers the official model saves but that are fixed functions of the config
DERIVED_KEYS = ("encoder.positional_encoding.pe", "decoder.positional_encoding.pe")
# 1x1 convolutions stored as Conv1d weights [out, in, 1]; our model holds them as Linear [out, in]
POINTWISE_SUFFIXES = (".pointwise_conv1.weight", ".pointwise_conv2.weight")


def check_model_dir(model_dir: str | Path) -> Path:
    d = Path(model_dir)
    if not d.is_dir():
        raise ModelFileError(d, f"model folder does not exist; get it with: firescribe download fireredasr-aed-l --dir {d} (docs/fireredasr.md), or set fireredasr_aed.model_dir")
    for name in MODEL_FILES:
        if not (d / name).is_file():
            raise ModelFileError(d / name, f"missing; a FireRedASR-AED folder holds {', '.join(MODEL_FILES + OPTIONAL_FILES)}")
    return d


def safe_torch_load(path: Path, mmap: bool):
    """A released checkpoint, unpickling nothing but tensors and the ``argparse.Namespace`` of
    its args (``weights_only``); shared by the FireRedASR, FireRedPunc and FireRedVAD loaders.
    The allowlist is process state while it loads: load from one thread at a time."""
    with torch.serialization.safe_globals([argparse.Namespace]):
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)


def load_checkpoint(path: str | Path) -> tuple[argparse.Namespace, dict[str, torch.Tensor]]:
    path = Path(path)
    try:
        try:
            package = safe_torch_load(path, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            log.warning("%s: legacy (non-zip) checkpoint format: cannot memory-map, loading a private copy", path)
            package = safe_torch_load(path, mmap=False)
    except Exception as exc:  # unpickling errors come in many types
        raise ModelFileError(path, f"not a loadable PyTorch checkpoint ({type(exc).__name__}: {str(exc)[:300]})") from exc
    if not isinstance(package, dict) or "args" not in package or "model_state_dict" not in package:
        raise ModelFileError(path, "expected a dict with 'args' and 'model_state_dict'")
    return package["args"], package["model_state_dict"]


def build_model(args: argparse.Namespace, state: dict[str, torch.Tensor], path: str | Path = "model.pth.tar") -> FireRedAed:
    try:
        cfg = AedConfig.from_args(args)
    except (AttributeError, TypeError, ValueError) as exc:
        raise ModelFileError(path, f"checkpoint args lack a field of the AED model ({exc})") from exc
    with torch.device("meta"):
        model = FireRedAed(cfg, ctc=any(k.startswith("ctc.") for k in state))  # FireRedASR2 has a CTC head
    state = {k: v for k, v in state.items() if k not in DERIVED_KEYS}
    # a view of the memory-mapped tensor: the weights stay shared
    state = {k: v.squeeze(-1) if k.endswith(POINTWISE_SUFFIXES) and v.dim() == 3 else v for k, v in state.items()}
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as exc:
        raise ModelFileError(path, f"weights do not fit the model described by its args: {str(exc)[:500]}") from exc
    model.decoder.tgt_word_prj.weight = model.decoder.tgt_word_emb.weight
    # the non-persistent positional table was built on the meta device: rebuild it on the CPU
    model.decoder.pe = sinusoid_table(cfg.pe_maxlen, cfg.d_model)
    return model.eval()


@dataclass
class LoadedModel:
    model: FireRedAed | None  # None where another runtime runs the network (ONNX Runtime)
    features: FbankCmvn
    tokens: TokenDict
    model_dir: Path


def load_frontend(model_dir: str | Path, odim: int, model: FireRedAed | None = None) -> LoadedModel:
    """Features (cmvn.ark) and tokens (dict.txt) of a released folder, checked against the
    network's output size ``odim``."""
    d = check_model_dir(model_dir)
    tokens = TokenDict(d / "dict.txt")
    if len(tokens) != odim:
        raise ModelFileError(d / "dict.txt", f"has {len(tokens)} tokens but the model outputs {odim}")
    return LoadedModel(model, FbankCmvn(d / "cmvn.ark"), tokens, d)


def load_model_dir(model_dir: str | Path, checkpoint: str | Path | None = None) -> LoadedModel:
    """The released folder; ``checkpoint`` replaces its model.pth.tar (a prepared fp16 copy)."""
    d = check_model_dir(model_dir)
    checkpoint = Path(checkpoint) if checkpoint else d / "model.pth.tar"
    args, state = load_checkpoint(checkpoint)
    model = build_model(args, state, checkpoint)
    return load_frontend(d, model.cfg.odim, model)
