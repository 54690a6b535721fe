"""How many units of a given length a FireRedASR-AED GPU job can decode at once in its memory.

A cost model, not a measurement: bytes of the largest tensors alive at the peak of each stage,
per utterance of T' encoder frames (T' = audio frames / 4, 25 per second), in the model's
precision, plus the weights. ``benchmarks/gpu.py`` prints it beside the measured peak of every
speed cell, so that a GPU run checks it; the counts are deliberately generous.

- Encoder, one layer at a time (inference frees the layer before): the relative-position
  attention's score tensors [N, H, T', T'] and [N, H, T', 2T'-1] and the additive mask and
  softmax SDPA takes (~6 x H T'^2 values per utterance), the layer's activations (~24 x D T'),
  and the subsampling convolutions' output (32 channels x 2T' x 40 mel bins, ~2 x 2560 T').
- Decoder: cross-attention keys and values of every layer (2 L_dec D T'), the self-attention
  cache of B beams over up to T' steps, twice (the eager cache doubles; the static one has a
  spare for beam selection), and the step's logits in fp32 (B V, ~4 copies).
"""

from __future__ import annotations

from firescribe.engines.fireredasr.model import AedConfig

BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}
FRAMES_PER_SECOND = 25  # encoder frames (10 ms features, subsampled by 4)
MARGIN = 0.8  # of the budget: the allocator's fragmentation and CUDA's own workspaces


def unit_bytes(cfg: AedConfig, precision: str, beam: int, seconds: float) -> int:
    """Peak bytes of activations per utterance of ``seconds`` in a batch (weights excluded)."""
    b, t = BYTES[precision], max(1, int(seconds * FRAMES_PER_SECOND))
    encoder = (6 * cfg.n_head * t * t + 24 * cfg.d_model * t + 2 * 2560 * t) * b
    decoder = (2 * cfg.n_layers_dec * cfg.d_model * t + 2 * 2 * cfg.n_layers_dec * beam * t * cfg.d_model) * b + 4 * 4 * beam * cfg.odim
    return max(encoder, decoder) + 2 * cfg.n_layers_dec * cfg.d_model * t * b  # the cross K/V outlive the encoder's peak


def units_that_fit(budget_mb: int, weights_bytes: int, cfg: AedConfig, precision: str, beam: int, seconds: float) -> int:
    """The most utterances of ``seconds`` (the batch's longest) one batch may hold within
    ``budget_mb`` MB (the job's ``asr.gpu_mem_mb``) holding ``weights_bytes`` of weights; at
    least 1 (a unit that does not fit alone goes to the CPU on out-of-memory)."""
    free = MARGIN * budget_mb * 2**20 - weights_bytes
    return max(1, int(free // unit_bytes(cfg, precision, beam, seconds)))
