"""FireRedASR-AED on ONNX Runtime: the graphs of ``export.py``, driven by the same beam search.

``OnnxAed`` mirrors ``FireRedAed.transcribe``; ``OnnxDecoder`` mirrors the torch decoder's
``init_state``/``step`` interface on the same decoder state, so ``beam_search`` runs unchanged
on either. Tensors cross between torch and numpy without copies (``torch.from_numpy`` /
``.numpy()``), and onnxruntime reads contiguous numpy inputs in place.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from firescribe.engines.fireredasr.beam_search import BeamParams, Hypothesis
from firescribe.engines.fireredasr.context import ContextGraph
from firescribe.engines.fireredasr.decoder import DecoderState, SelfAttentionCache
from firescribe.engines.fireredasr.errors import ModelFileError
from firescribe.engines.fireredasr.export import CROSS_FILE, DECODER_FILE, ENCODER_FILE, cross_names, past_names
from firescribe.engines.fireredasr.model import AedConfig, search


def session(path: Path, threads: int):
    import onnxruntime as ort  # ~85 ms: the backend imports this module for its torch runtime too

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


class OnnxDecoder:
    """The decoder graphs behind the torch decoder's interface, on the same state
    (``DecoderState``, ``SelfAttentionCache``): the step graph reads the cache buffers where
    they are (numpy views of the torch buffers, no copy) and returns only the new position's
    keys/values, which the cache stores as the torch engine does."""

    def __init__(self, cross_session, step_session, cfg: AedConfig):
        self.cross_session, self.step_session = cross_session, step_session
        self.sos_id, self.eos_id = cfg.sos_id, cfg.eos_id
        self.n_layers, self.heads, self.d_k = cfg.n_layers_dec, cfg.n_head, cfg.d_model // cfg.n_head
        self.cross_inputs, self.past_inputs = cross_names(self.n_layers), past_names(self.n_layers)

    def init_state(self, enc: Tensor, enc_mask: Tensor, beams: int) -> DecoderState:
        """enc [N, T', D], enc_mask [N, 1, T'] bool."""
        kv = [torch.from_numpy(t) for t in self.cross_session.run(None, {"enc": enc.numpy()})]
        cross = list(zip(kv[0::2], kv[1::2]))  # per layer, [N, H, T', K]
        return DecoderState(cross, enc_mask.unsqueeze(1), SelfAttentionCache(self.n_layers), beams)

    def step(self, tokens: Tensor, position: int, state: DecoderState) -> tuple[Tensor, DecoderState]:
        """tokens [R] at ``position`` -> logits [R, V] of the next token, and the state
        (updated in place) for the next step."""
        cache, like = state.cache, torch.empty(len(tokens), self.heads, 1, self.d_k, device="cpu")
        feeds = {"tokens": np.ascontiguousarray(tokens.numpy()), "position": np.array(position, dtype=np.int64), "cross_mask": state.cross_mask.numpy()}
        for i in range(self.n_layers):
            cache.reserve(i, like)
        feeds |= zip(self.cross_inputs, (t.numpy() for kv in state.cross for t in kv))
        feeds |= zip(self.past_inputs, (t.numpy() for kv in zip(cache.keys, cache.values) for t in kv))
        logits, *new = self.step_session.run(None, feeds)
        for i in range(self.n_layers):
            cache.append(i, torch.from_numpy(new[2 * i]), torch.from_numpy(new[2 * i + 1]))
        cache.advance()
        return torch.from_numpy(logits), state


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
