"""The sherpa-onnx peer of benchmarks/sherpa_onnx_peer.py: sherpa-onnx's own FireRedASR
recognizer reads our export in its format (benchmarks/sherpa_format.py) and decodes exactly
what our engine decodes greedily, so the benchmark compares equal work."""

from __future__ import annotations

import sys

import numpy as np
import torch
from support.official import make_model_dir
from support.workflow import REPO

from firescribe.engines.fireredasr.beam_search import BeamParams
from firescribe.engines.fireredasr.loader import load_model_dir

sys.path.insert(0, str(REPO / "benchmarks"))
import sherpa_format  # noqa: E402


@torch.inference_mode()
def test_sherpa_onnx_decodes_our_export_as_our_engine(tmp_path):
    model_dir = make_model_dir(tmp_path / "model", logit_std=None)  # never ends a hypothesis
    loaded = load_model_dir(model_dir)
    fp32 = sherpa_format.export_sherpa(loaded.model, model_dir, tmp_path / "fp32")
    int8 = sherpa_format.quantize_sherpa(fp32, tmp_path / "int8")
    token_ids = {line.split()[0]: int(line.split()[1]) for line in (model_dir / "dict.txt").open(encoding="utf-8")}
    rng = np.random.default_rng(0)
    for seconds in (3.0, 7.3):
        audio = (rng.standard_normal(int(seconds * 16000)) * 3000).astype(np.int16).astype(np.float32) / 32768
        n = sherpa_format.greedy_steps(len(audio))
        feats, lengths = loaded.features.batch([audio])
        ours = loaded.model.transcribe(feats, lengths, BeamParams(beam_size=1, nbest=1, decode_max_len=n))[0][0].tokens
        assert len(ours) == n > 0
        assert sherpa_format.decode(sherpa_format.recognizer(fp32, 1), audio, token_ids) == ours
        assert len(sherpa_format.decode(sherpa_format.recognizer(int8, 1), audio, token_ids)) == n
