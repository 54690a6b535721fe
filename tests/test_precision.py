"""Numeric variants of the FireRedASR-AED engine (fp32, int8) on a random checkpoint of the
official format: each loads and runs, and int8 stays close to fp32.

Accuracy with real weights cannot be measured without the released model; what is tested
here is that quantization is applied and its numeric error is what int8 should give.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support.official import SMALL, make_model_dir
from torch import nn

from firescribe.engines.fireredasr.beam_search import BeamParams
from firescribe.engines.fireredasr.loader import load_model_dir
from firescribe.engines.fireredasr.precision import to_precision

# int8 weights (per tensor) and activations (per batch) carry ~0.5% error per layer; through
# 2+2 layers this measured 1-3% (relative L2) on the encoder output and the logits.
MAX_REL_ERR = 0.08


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("aed") / "model"
    make_model_dir(d, size=SMALL)
    fp32 = load_model_dir(d)
    int8 = to_precision(load_model_dir(d).model, "int8")
    rng = np.random.default_rng(0)
    audio = [(rng.standard_normal(n) * 3000).astype(np.int16) for n in (16000 * 3, 16000 * 2)]
    feats, lengths = fp32.features.batch(audio)
    return fp32, int8, feats, lengths


def test_int8_replaces_every_linear_layer(models):
    fp32, int8, _, _ = models
    n_linear = sum(isinstance(m, nn.Linear) for m in fp32.model.modules())
    quantized = [m for m in int8.modules() if type(m).__module__.startswith("torch.ao.nn.quantized.dynamic")]
    assert n_linear > 0 and len(quantized) == n_linear
    assert not any(type(m) is nn.Linear for m in int8.modules())


@torch.inference_mode()
def test_int8_encoder_and_logits_stay_close_to_fp32(models):
    fp32, int8, feats, lengths = models
    enc32, mask = fp32.model.encoder(feats, lengths)
    enc8, mask8 = int8.encoder(feats, lengths)
    assert torch.equal(mask, mask8)
    valid = mask[:, 0, :, None]
    assert rel_err(enc8 * valid, enc32 * valid) < MAX_REL_ERR

    sos = torch.full((2,), fp32.model.cfg.sos_id)
    logits32, _ = fp32.model.decoder.step(sos, 0, fp32.model.decoder.init_state(enc32, mask, beams=1))
    logits8, _ = int8.decoder.step(sos, 0, int8.decoder.init_state(enc8, mask8, beams=1))
    assert rel_err(logits8, logits32) < MAX_REL_ERR


def test_int8_beam_search_runs_end_to_end(models):
    _, int8, feats, lengths = models
    hyps = int8.transcribe(feats, lengths, BeamParams(beam_size=3, nbest=1, decode_max_len=6))
    assert len(hyps) == 2 and all(len(h[0].tokens) <= 6 for h in hyps)


def test_int8_refuses_the_gpu(models):
    fp32 = models[0]
    with pytest.raises(ValueError, match="CPU only"):
        to_precision(fp32.model, "int8", device="cuda")
