"""The engine on any device, checked without a GPU.

Every tensor the engine makes must take the device (and dtype) of the data it meets: a table
built on the default device (the CPU) next to activations on the GPU fails there ("Expected all
tensors to be on the same device"). Making the *default* device ``meta`` while the model and
its input stay on the CPU catches each such tensor here: any tensor made without an explicit
device lands on ``meta``, and the first operation mixing it with the CPU data fails (or, for a
table the engine moves itself, the copy from ``meta`` fails). So a transcription that gives the
same results under ``torch.device("meta")`` makes no tensor on a device it did not choose: the
features, the encoder's position table, the beam search, the hotword graph and the CTC
alignment of FireRedASR2's word times included.

The second guard is for CUDA's fused attention, which rejects a strided attention mask (the
view ``rel_shift`` returns): with the model on ``meta``, a device that is not the CPU, every
mask the encoder hands to ``scaled_dot_product_attention`` must be a plain contiguous tensor.

Half precision (fp16, bf16) runs on the CPU too, slowly: its dtype handling (tables and inputs
cast to the model's dtype, scores summed in fp32) is checked here; its speed and its agreement
with fp32 on the full-size model are benchmarks/gpu.py's.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from support import official
from firescribe.pcm import open_pcm, to_float
from firescribe.fireredasr import encoder as encoder_module
from firescribe.fireredasr.beam_search import BeamParams
from firescribe.fireredasr.context import ContextGraph
from firescribe.fireredasr.loader import load_model_dir
from firescribe.fireredasr.precision import DTYPES as precision_dtype, to_precision

pytestmark = pytest.mark.media_tools  # makes its speech with espeak-ng and sox

REPO = Path(__file__).resolve().parents[1]
TEXTS = ["The quick brown fox jumps over the lazy dog.", "我们明天早上九点在车站见面。", "Nine."]
PARAMS = BeamParams(beam_size=3, softmax_smoothing=1.25, length_penalty=0.6)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("device")
    audios = []
    for i, text in enumerate(TEXTS):
        raw, wav = root / f"raw{i}.wav", root / f"utt{i}.wav"
        subprocess.run(["espeak-ng", "-v", "cmn" if i == 1 else "en-us", "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", "-b", "16", "-c", "1", str(wav)], check=True)
        audios.append(to_float(np.asarray(open_pcm(wav))))
    return root, audios


@pytest.fixture(scope="module", params=[1, 2], ids=["FireRedASR-AED", "FireRedASR2-AED"])
def loaded(request, clips):
    return load_model_dir(official.make_model_dir(clips[0] / f"v{request.param}", version=request.param))


def transcribe(loaded, audios, context: ContextGraph | None = None):
    feats, lengths = loaded.features.batch(audios)
    hyps = loaded.model.transcribe(feats, lengths, PARAMS, timestamps=True, context=context)
    return [(h[0].tokens, h[0].times, h[0].token_probs) for h in hyps]


@pytest.mark.slow  # the whole engine under torch.device('meta'): 12 s of CPU
def test_no_tensor_is_made_on_a_device_the_engine_did_not_choose(loaded, clips):
    audios = clips[1]
    plain = transcribe(loaded, audios)
    assert len({len(tokens) for tokens, _, _ in plain}) > 1, "the clips should end at different lengths (padding)"
    if loaded.model.ctc is not None:
        assert any(times for _, times, _ in plain), "FireRedASR2 should time some words (the CTC alignment)"
    hotwords = [(plain[0][0][2:5], 1.5), (plain[1][0][:2], 1.0)]
    biased = transcribe(loaded, audios, ContextGraph(hotwords, len(loaded.tokens)))
    with torch.device("meta"):  # every tensor made without a device lands here, and fails
        assert transcribe(loaded, audios) == plain
        assert transcribe(loaded, audios, ContextGraph(hotwords, len(loaded.tokens))) == biased
        assert [transcribe(loaded, [a])[0] for a in audios] == [transcribe(loaded, [a])[0] for a in audios]


def test_attention_masks_off_the_cpu_are_contiguous(loaded, monkeypatch):
    masks, sdpa = [], F.scaled_dot_product_attention

    def recording(q, k, v, attn_mask=None, **kw):
        masks.append(attn_mask)
        return sdpa(q, k, v, attn_mask=attn_mask, **kw)

    monkeypatch.setattr(encoder_module.F, "scaled_dot_product_attention", recording)
    encoder = loaded.model.encoder
    n, t, d = 2, 37, encoder.d_model
    padded = (torch.arange(t) < torch.tensor([t, 20])[:, None])[:, None, None, :]  # [N, 1, 1, T]
    for device in ("meta", "cpu"):  # meta: a device that is not the CPU, as CUDA
        attention = copy.deepcopy(encoder.layer_stack[0].mhsa).to(device)
        x, pos = torch.randn(n, t, d, device=device), encoder.relative_positions(t, torch.device(device))
        for key_mask in (None, padded.to(device)):  # no padding (rel_shift's view), padding
            masks.clear()
            attention(x, pos, key_mask)
            (mask,) = masks
            aligned = mask.is_contiguous() and mask.storage_offset() == 0
            # off the CPU always aligned; on the CPU the view goes in as it is (no copy)
            assert aligned if device == "meta" or key_mask is not None else not aligned


@pytest.mark.slow  # half precision on the CPU: 17 s of CPU
@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_half_precision_runs_with_hotwords_and_word_times(loaded, clips, precision):
    audios = clips[1]
    plain = transcribe(loaded, audios)
    context = ContextGraph([(plain[0][0][2:5], 1.5)], len(loaded.tokens))
    half = to_precision(copy.deepcopy(loaded.model), precision, "cpu")
    assert {p.dtype for p in half.parameters()} == {precision_dtype[precision]}
    feats, lengths = loaded.features.batch(audios)
    for graph in (None, context):
        hyps = half.transcribe(feats.to(precision_dtype[precision]), lengths, PARAMS, timestamps=True, context=graph)
        assert all(isinstance(p, float) and 0.0 < p <= 1.0 for h in hyps for p in h[0].token_probs)
    # whether half precision keeps fp32's tokens is measured on the full-size model
    # (benchmarks/gpu.py); where it does here, FireRedASR2's words are timed as in fp32
    hyps = half.transcribe(feats.to(precision_dtype[precision]), lengths, PARAMS, timestamps=True)
    same = [(h[0].times, times) for h, (tokens, times, _) in zip(hyps, plain) if h[0].tokens == tokens]
    assert same, "half precision should keep fp32's tokens on some clip"
    for half_times, times in same:
        assert (half_times is None) == (times is None)
        if times:  # a random CTC head's alignment is flat: bf16's rounding may move it a few frames
            assert len(half_times) == len(times)
            assert all(a[0] <= a[1] <= b[0] for a, b in zip(half_times, half_times[1:]))


def test_the_gpu_benchmark_runs_in_its_cpu_mode(tmp_path):
    """benchmarks/gpu.py is run by hand on a GPU machine; its CPU mode runs here so it cannot rot."""
    args = ["--device", "cpu", "--size", "small", "--batches", "1", "2", "--seconds", "2", "--long", "3", "--parity-seconds", "1.3", "1.9", "--out", str(tmp_path)]
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu.py"), *args], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = proc.stdout
    parity = re.findall(r"ours fp32 on cpu = official on cpu: (\d+)/(\d+)", out)
    assert parity == [("6", "6")], out  # beam 1 and 3: each clip alone, then both batched
    assert re.search(r"small: 4 x 2 s, \d+ tokens: fp16 [\d.]+%, bf16 [\d.]+%", out), out
    rows = re.findall(r"^\s+\d+ x\s+[\d.]+ s((?:\s+[\d.]+ s){4})$", out, flags=re.M)
    assert len(rows) == 3, out  # 1 x 2 s, 2 x 2 s, 1 x 3 s; official and ours fp32/fp16/bf16
