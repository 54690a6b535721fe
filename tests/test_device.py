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
from support import official, zh_clips

from firescribe.engines.fireredasr import encoder as encoder_module
from firescribe.engines.fireredasr.beam_search import BeamParams
from firescribe.engines.fireredasr.context import ContextGraph
from firescribe.engines.fireredasr.loader import load_model_dir
from firescribe.engines.fireredasr.precision import DTYPES as precision_dtype
from firescribe.engines.fireredasr.precision import to_precision
from firescribe.plumbing.pcm import open_pcm, to_float

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


def transcribe(loaded, audios, context: ContextGraph | None = None, mode: str = "eager"):
    feats, lengths = loaded.features.batch(audios)
    hyps = loaded.model.transcribe(feats, lengths, PARAMS, timestamps=True, context=context, decoder_mode=mode)
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
        # the fixed-shape decoding step (static caches, step tensor, masks) too
        static = transcribe(loaded, audios, mode="static")
        assert [t for t, _, _ in static] == [t for t, _, _ in plain]
        assert transcribe(loaded, audios, ContextGraph(hotwords, len(loaded.tokens)), mode="static") == transcribe(
            loaded, audios, ContextGraph(hotwords, len(loaded.tokens)), mode="static"
        )


# beam 3 (n-best, beam selection reordering the static cache) takes ~9 s a model: the slow tier
@pytest.mark.parametrize("beam", [1, pytest.param(3, marks=pytest.mark.slow)])
def test_the_static_decoder_step_gives_the_eager_tokens_and_scores(loaded, clips, beam):
    """The fixed-shape step (caches preallocated to max_len, written in place at a step tensor,
    self-attention over every slot under a mask, no row leaving the batch) that CUDA graphs
    capture gives today's decoder's hypotheses: the same tokens and word times, and scores
    and token probabilities equal to float32 rounding (the masked slots add exact zeros, but
    sums over C slots instead of L round in another order: measured differences < 1e-5)."""
    audios = clips[1]
    feats, lengths = loaded.features.batch(audios)
    params = BeamParams(beam_size=beam, nbest=beam, softmax_smoothing=1.25, length_penalty=0.6)
    eager = loaded.model.transcribe(feats, lengths, params, timestamps=True)
    assert len({len(u[0].tokens) for u in eager}) > 1, "the clips should end at different steps (rows finish early)"
    hotwords = ContextGraph([(eager[0][0].tokens[2:5], 1.5), (eager[1][0].tokens[:2], 1.0)], len(loaded.tokens))
    for context in (None, hotwords):
        def run(mode: str) -> list:  # batched (padded; rows finish at different steps), then each alone
            batched = loaded.model.transcribe(feats, lengths, params, timestamps=True, context=context, decoder_mode=mode)
            return batched + [
                loaded.model.transcribe(feats[i : i + 1, : int(n)], lengths[i : i + 1], params, timestamps=True, context=context, decoder_mode=mode)[0]
                for i, n in enumerate(lengths)
            ]

        for w, g in zip(run("eager"), run("static")):
            assert [h.tokens for h in g] == [h.tokens for h in w]  # every n-best hypothesis
            assert [h.times for h in g] == [h.times for h in w]
            assert [h.score for h in g] == pytest.approx([h.score for h in w], rel=1e-5, abs=1e-5)
            assert [p for h in g for p in h.token_probs] == pytest.approx([p for h in w for p in h.token_probs], abs=1e-5)


def test_the_static_cache_keeps_its_buffers_where_a_cuda_graph_reads_them(loaded, clips):
    """A CUDA graph replays reads and writes at fixed addresses: beam selection must reorder
    the static cache's rows in place, and the step must find its position in a tensor."""
    decoder = loaded.model.decoder
    feats, lengths = loaded.features.batch(clips[1])
    with torch.inference_mode():
        enc, mask = loaded.model.encoder(feats, lengths)
        state = decoder.init_state(enc, mask, 2, "graph", max_len=6)  # graph on the CPU: static
    assert state.mode == "static" and state.cache.fixed
    rows = len(clips[1]) * 2
    tokens = torch.full((rows,), decoder.sos_id)
    with torch.inference_mode():
        for t in range(3):
            logits, state = decoder.step(tokens, t, state)
            if t == 0:
                addresses = [b.data_ptr() for b in state.cache.keys + state.cache.values]
                before = state.cache.keys[0][:, :, :1].clone()
            tokens = logits.argmax(-1)
            state.select(torch.arange(rows).flip(0))
    assert [b.data_ptr() for b in state.cache.keys + state.cache.values] == addresses
    assert int(state.cache.position) == 2 and state.cache.length == 3
    # three reversals: row r now holds what row R-1-r held after the first step
    assert torch.equal(state.cache.keys[0][:, :, :1], before.flip(0))
    with pytest.raises(ValueError, match="capacity"):
        state.cache.seek(6)
    with pytest.raises(ValueError, match="keeps all"):
        state.select(torch.arange(2))


def test_features_on_the_device_equal_kaldi_native_fbank(loaded, clips):
    """The torch filterbank a GPU job can run on its device (``FbankCmvn.device_batch``) against
    kaldi-native-fbank on the CPU, here both on the CPU (the same torch code runs on CUDA):
    espeak-ng speech, the real Mandarin clips (where ../shared has them), a pure tone, silence
    and a clip too short for one frame. Tolerance: both compute in float32 with different FFTs;
    the log of a mel bin with little energy amplifies their rounding (knf vs float64 numpy: up to
    ~1e-3, fireredvad.Filterbank's note). Measured 2026-12-04 after CMVN: max 5.5e-4, mean 2e-7
    (LibriVox + synthetic); asserted max 2e-3, mean 1e-5. And the tokens of the small model
    are the same from either features (beam 3, batched)."""
    audios = list(clips[1])
    if zh_clips.available():
        audios += [to_float(np.asarray(open_pcm(zh_clips.CLIPS / f"{u}.wav")))[: 16000 * 8] for u in zh_clips.references()]
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(24000) / 16000)).astype(np.float32)
    audios += [tone, np.zeros(16000, np.float32), np.zeros(300, np.float32)]
    want, want_lengths = loaded.features.batch(audios)
    with torch.device("meta"):  # the device path makes every tensor on the device it is given
        got, lengths = loaded.features.device_batch(audios, "cpu")
    assert got.shape == want.shape and got.dtype == torch.float32 and torch.equal(lengths, want_lengths)
    diff = (got - want).abs()
    assert float(diff.max()) < 2e-3 and float(diff.mean()) < 1e-5, (float(diff.max()), float(diff.mean()))
    assert float(got[-1].abs().sum()) == 0.0 and float(got[-2].abs().sum()) > 0  # padding is zero, silence is not
    speech = slice(0, len(audios) - 3)
    hyps = [loaded.model.transcribe(f[speech], n[speech], PARAMS) for f, n in ((want, want_lengths), (got, lengths))]
    assert [h[0].tokens for h in hyps[0]] == [h[0].tokens for h in hyps[1]]


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
    # the levers (static step, CUDA graph step - static on the CPU -, features in torch) give eager's tokens
    for lever in ("static", "graph", "graph+feats"):
        assert f"ours fp32 {lever} = ours fp32 eager on cpu: 6/6" in out, out
    rows = re.findall(r"^\s+\d+ x\s+[\d.]+ s((?:\s+[\d.]+ s){13})$", out, flags=re.M)
    assert len(rows) == 3, out  # 1 x 2 s, 2 x 2 s, 1 x 3 s; official, ours fp32/fp16/bf16 x 4 levers
    assert "error" not in out and "failed" not in out, out
    features = re.findall(r"^\s+\d+ x\s+[\d.]+ s: knf [\d.]+ s, torch [\d.]+ s, max abs diff ([\d.e+-]+)$", out, flags=re.M)
    assert len(features) == 3 and max(float(d) for d in features) < 2e-3, out
