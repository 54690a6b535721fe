"""FireRedASR-AED on ONNX Runtime: the graphs of ``export.py``, driven by the same beam search.

``OnnxAed`` mirrors ``FireRedAed.transcribe``; ``OnnxDecoder`` mirrors the torch decoder's
``init_state``/``step`` interface, so ``beam_search`` runs unchanged on either. Tensors cross
between torch and numpy without copies (``torch.from_numpy`` / ``.numpy()``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from firescribe.fireredasr.beam_search import BeamParams, Hypothesis
from firescribe.fireredasr.context import ContextGraph
from firescribe.fireredasr.errors import ModelFileError
from firescribe.fireredasr.export import CROSS_FILE, DECODER_FILE, ENCODER_FILE, cross_names, past_names
from firescribe.fireredasr.model import AedConfig, search


def session(path: Path, threads: int):
    import onnxruntime as ort

    if not path.is_file():
        raise ModelFileError(path, "missing; run the workflow's prepare_model step to create it")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ModelFileError(path, f"not a loadable ONNX graph ({type(exc).__name__}: {str(exc)[:300]})") from exc


@dataclass
class OnnxDecoderState:
    cross: list[np.ndarray]  # cross_k_0, cross_v_0, cross_k_1, ... [N, H, T', K]
    cross_mask: np.ndarray  # [N, 1, 1, T'] bool
    past: list[np.ndarray]  # past_k_0, past_v_0, ... [R, H, L, K]
    beams: int

    def select(self, rows: Tensor, utts: Tensor | None = None) -> "OnnxDecoderState":
        """Keep/reorder cache rows (beam selection); optionally keep only utterances ``utts``."""
        r = rows.numpy()
        past = [p[r] for p in self.past]
        if utts is None:
            return OnnxDecoderState(self.cross, self.cross_mask, past, self.beams)
        u = utts.numpy()
        return OnnxDecoderState([c[u] for c in self.cross], self.cross_mask[u], past, self.beams)


class OnnxDecoder:
    def __init__(self, cross_session, step_session, cfg: AedConfig):
        self.cross_session, self.step_session = cross_session, step_session
        self.sos_id, self.eos_id = cfg.sos_id, cfg.eos_id
        self.n_layers, self.heads, self.d_k = cfg.n_layers_dec, cfg.n_head, cfg.d_model // cfg.n_head

    def init_state(self, enc: Tensor, enc_mask: Tensor, beams: int) -> OnnxDecoderState:
        """enc [N, T', D], enc_mask [N, 1, T'] bool."""
        cross = self.cross_session.run(None, {"enc": enc.numpy()})
        empty = np.zeros((enc.shape[0] * beams, self.heads, 0, self.d_k), dtype=np.float32)
        return OnnxDecoderState(cross, enc_mask.unsqueeze(1).numpy(), [empty] * (2 * self.n_layers), beams)

    def step(self, tokens: Tensor, position: int, state: OnnxDecoderState) -> tuple[Tensor, OnnxDecoderState]:
        """tokens [R] at ``position`` -> logits [R, V] of the next token, and the next state."""
        feeds = {"tokens": np.ascontiguousarray(tokens.numpy()), "position": np.array(position, dtype=np.int64), "cross_mask": state.cross_mask}
        feeds |= dict(zip(cross_names(self.n_layers), state.cross))
        feeds |= dict(zip(past_names(self.n_layers), state.past))
        logits, *present = self.step_session.run(None, feeds)
        return torch.from_numpy(logits), OnnxDecoderState(state.cross, state.cross_mask, present, state.beams)


class OnnxAed:
    """FireRedASR-AED (or FireRedASR2-AED) from a prepared folder of ONNX graphs."""

    def __init__(self, onnx_dir: str | Path, cfg: AedConfig, threads: int):
        d = Path(onnx_dir)
        self.encoder = session(d / ENCODER_FILE, threads)
        self.decoder = OnnxDecoder(session(d / CROSS_FILE, threads), session(d / DECODER_FILE, threads), cfg)
        self.has_ctc = any(o.name == "ctc_log_probs" for o in self.encoder.get_outputs())

    @torch.inference_mode()
    def transcribe(
        self, feats: Tensor, lengths: Tensor, params: BeamParams, timestamps: bool = False, context: ContextGraph | None = None
    ) -> list[list[Hypothesis]]:
        """As ``FireRedAed.transcribe``: feats [N, T, 80], lengths [N] -> n-best per utterance."""
        outs = self.encoder.run(None, {"feats": feats.numpy(), "lengths": lengths.numpy()})
        enc, mask = torch.from_numpy(outs[0]), torch.from_numpy(outs[1])
        ctc = torch.from_numpy(outs[2]) if timestamps and self.has_ctc else None
        return search(self.decoder, enc, mask, params, ctc, context)
