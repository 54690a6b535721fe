"""FireRedVAD's DFSMN models (``fireredvad.core.detect_model.DetectModel``) as one ONNX graph
for ONNX Runtime: the official arithmetic, laid out for speed.

* The graph takes the filterbanks once and runs each model on them (the VAD, and the event
  model where it is used): CMVN, the DFSMN, the sigmoid; one output per model.
* Frames are columns ([channels, frames]) from the first layer to the last, in blocks of
  ``BLOCK``, frame j * BLOCK + i at column i * blocks + j (``to_blocks``): each Linear is
  one ``Gemm`` with the weights on the left (the order of the columns does not matter to
  it), and nothing is transposed between layers.
* An FSMN (a lookback filter over frames t-N1+1 .. t, plus its input, plus a lookahead
  filter over t+1 .. t+N2, zeros past either end) is one filter of N1 + N2 taps with the
  identity added to the tap of frame t, run as a 2-D ``Conv`` over [block frame, block]
  whose kernel spans the whole block and the blocks either side: each output block is a
  small matrix product over the three input blocks, in the same layout. (A depthwise
  ``Conv`` of 40 taps over frames costs ONNX Runtime a 40-row copy of every channel first.)
  The frames past the end of the input (the last block's padding) are zeroed before each
  FSMN, as the official zero padding is.

Built in memory from the checkpoints' tensors (about 2 MB a model), never written to disk.
The order of float32 additions and the CMVN (float32 here; float64 then rounded in the
official code) differ from torch: probabilities agree to ~2e-6 (tests/test_fireredvad.py).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

OPSET = 17
# inputs: filterbanks [idim, BLOCK, blocks] (to_blocks), and 1 for the frames of the input,
# 0 for the padding [1, BLOCK * blocks]; one output per model, named as it [odim, BLOCK * blocks]
INPUT, MASK = "fbank", "mask"
BLOCK = 20  # frames per block; at least N1 - 1 and N2, the reach of an FSMN's filter


@dataclass
class Dfsmn:
    """One released model: the checkpoint's args and tensors (numpy), and its CMVN."""

    args: argparse.Namespace
    state: dict[str, np.ndarray]
    means: np.ndarray
    inverse_std: np.ndarray


def reach(args: argparse.Namespace) -> tuple[int, int]:
    """How many frames before and after a frame its probability depends on: each of the R
    FSMNs looks N1 - 1 frames back and N2 ahead; every other layer sees one frame."""
    return args.R * (args.N1 - 1), args.R * args.N2  # strides of 1 (fused_filter)


def to_blocks(fbank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The graph's inputs for [T, idim] filterbanks: [idim, BLOCK, blocks], frames past T zero,
    and the mask."""
    t, dim = fbank.shape
    blocks = -(-t // BLOCK)
    padded = np.zeros((blocks * BLOCK, dim), dtype=np.float32)
    padded[:t] = fbank
    mask = np.zeros(blocks * BLOCK, dtype=np.float32)
    mask[:t] = 1.0
    return np.ascontiguousarray(padded.reshape(blocks, BLOCK, dim).transpose(2, 1, 0)), np.ascontiguousarray(mask.reshape(blocks, BLOCK).T.reshape(1, -1))


def from_blocks(probs: np.ndarray, frames: int) -> np.ndarray:
    """[frames, odim] of a model's output [odim, BLOCK * blocks]."""
    odim = probs.shape[0]
    return probs.reshape(odim, BLOCK, -1).transpose(2, 1, 0).reshape(-1, odim)[:frames]


def fused_filter(state: dict[str, np.ndarray], prefix: str, args: argparse.Namespace) -> np.ndarray:
    """[P, N1 + N2] taps over frames t-N1+1 .. t+N2: lookback, identity, lookahead."""
    if args.S1 != 1 or (args.N2 and args.S2 != 1):
        raise ValueError(f"FireRedVAD DFSMN with strides {args.S1}, {args.S2}: only stride 1 is supported")
    if args.N1 - 1 > BLOCK or args.N2 > BLOCK:
        raise ValueError(f"FireRedVAD DFSMN with filter orders {args.N1}, {args.N2}: at most {BLOCK} supported")
    back = state[f"{prefix}.lookback_filter.weight"][:, 0, :]  # [P, N1], tap k: frame t-N1+1+k
    taps = np.zeros((back.shape[0], args.N1 + args.N2), dtype=np.float32)
    taps[:, : args.N1] = back
    taps[:, args.N1 - 1] += 1.0  # the FSMN's input, added to its filters' outputs
    if args.N2:
        taps[:, args.N1 :] = state[f"{prefix}.lookahead_filter.weight"][:, 0, :]  # tap k: frame t+1+k
    return taps


def block_filter(taps: np.ndarray, n1: int) -> np.ndarray:
    """[P * BLOCK, 1, BLOCK, 3] Conv weights: output frame i of a block (output channel
    c * BLOCK + i) from frame i2 of the block before, this block or the block after (tap k of
    ``taps``: frame i - n1 + 1 + k)."""
    p, n = taps.shape
    w = np.zeros((p, BLOCK, BLOCK, 3), dtype=np.float32)
    for i in range(BLOCK):
        for k in range(n):
            frame = i - n1 + 1 + k + BLOCK  # in the three blocks' frames
            w[:, i, frame % BLOCK, frame // BLOCK] = taps[:, k]
    return w.reshape(p * BLOCK, 1, BLOCK, 3)


def dfsmn_graph(models: dict[str, Dfsmn]) -> bytes:
    """The serialized ONNX model running each of ``models`` on the one filterbank input."""
    import onnx  # ~0.7 s: only where a VAD session is built (settings import this module)
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []

    def const(name: str, value, dtype=np.float32) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value, dtype=dtype), name))
        return name

    outputs = []
    for model, m in models.items():
        args, state = m.args, m.state
        const(f"{model}.columns", [args.idim, -1], np.int64), const(f"{model}.by_block", [1, args.P, BLOCK, -1], np.int64)
        const(f"{model}.rows", [args.P, -1], np.int64)

        def linear(x: str, name: str, relu: bool) -> str:
            w = const(f"{model}.{name}.weight", state[f"{name}.weight"])  # [out, in] @ x [in, frames]
            out = f"{model}.{name}.out"
            if f"{name}.bias" in state:
                nodes.append(helper.make_node("Gemm", [w, x, const(f"{model}.{name}.bias", state[f"{name}.bias"][:, None])], [out]))
            else:
                nodes.append(helper.make_node("MatMul", [w, x], [out]))
            if relu:
                nodes.append(helper.make_node("Relu", [out], [f"{out}.relu"]))
                out = f"{out}.relu"
            return out

        def fsmn(x: str, prefix: str) -> str:
            name = f"{model}.{prefix}"
            w = const(f"{name}.taps", block_filter(fused_filter(state, prefix, args), args.N1))
            nodes.extend([
                helper.make_node("Mul", [x, MASK], [f"{name}.masked"]),  # zeros past the end
                helper.make_node("Reshape", [f"{name}.masked", f"{model}.by_block"], [f"{name}.in"]),
                helper.make_node("Conv", [f"{name}.in", w], [f"{name}.conv"], group=args.P,
                                 kernel_shape=[BLOCK, 3], pads=[0, 1, 0, 1]),  # [1, P * BLOCK, 1, blocks]
                helper.make_node("Reshape", [f"{name}.conv", f"{model}.rows"], [f"{name}.out"]),
            ])  # fmt: skip
            return f"{name}.out"

        nodes += [
            helper.make_node("Sub", [INPUT, const(f"{model}.means", m.means[:, None, None])], [f"{model}.centred"]),
            helper.make_node("Mul", [f"{model}.centred", const(f"{model}.istd", m.inverse_std[:, None, None])], [f"{model}.feats"]),
            helper.make_node("Reshape", [f"{model}.feats", f"{model}.columns"], [f"{model}.x"]),
        ]
        x = fsmn(linear(linear(f"{model}.x", "dfsmn.fc1.0", True), "dfsmn.fc2.0", True), "dfsmn.fsmn1")
        for b in range(args.R - 1):
            block = f"dfsmn.fsmns.{b}"
            memory = fsmn(linear(linear(x, f"{block}.fc1.0", True), f"{block}.fc2", False), f"{block}.fsmn")
            nodes.append(helper.make_node("Add", [memory, x], [f"{model}.{block}.out"]))
            x = f"{model}.{block}.out"
        for d in range(args.M):
            x = linear(x, f"dfsmn.dnns.{3 * d}", True)
        nodes.append(helper.make_node("Sigmoid", [linear(x, "out", False)], [model]))
        outputs.append(helper.make_tensor_value_info(model, TensorProto.FLOAT, [args.odim, "frames"]))
    idim = next(iter(models.values())).args.idim
    inputs = [
        helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [idim, BLOCK, "blocks"]),
        helper.make_tensor_value_info(MASK, TensorProto.FLOAT, [1, "frames"]),
    ]
    proto = helper.make_model(helper.make_graph(nodes, "fireredvad", inputs, outputs, inits), opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(proto)
    return proto.SerializeToString()
