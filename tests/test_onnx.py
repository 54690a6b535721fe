"""Prepared variants of FireRedASR-AED: ONNX Runtime graphs (fp32, int8) and fp16 weights,
made by the prepare_model step from random checkpoints of the official format (v1 and v2).

fp32 ONNX runs our modules through ONNX Runtime's kernels: it must agree with the torch
engine to float tolerance and give the same hypotheses. int8 must stay within the error
int8 quantization gives (the same bound as torch's int8, tests/test_precision.py).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from support.official import make_model_dir
from support.settings import firered_options
from test_precision import MAX_REL_ERR, rel_err

from firescribe.engines.fireredasr.beam_search import BeamParams
from firescribe.engines.fireredasr.errors import ModelFileError
from firescribe.engines.fireredasr.loader import load_model_dir
from firescribe.engines.fireredasr.ort import OnnxAed
from firescribe.engines.fireredasr.prepared import read_manifest
from firescribe.settings import default_settings
from firescribe.steps.prepare_model import prepare

# exporting and running the graphs of both versions: 20 s of CPU (the whole suite runs it)
pytestmark = pytest.mark.slow


def audio_batch(model, seconds=(3.0, 1.7, 2.4)):
    rng = np.random.default_rng(1)
    audio = [(rng.standard_normal(int(16000 * s)) * 3000).astype(np.int16) for s in seconds]
    return model.features.batch(audio)


@pytest.fixture(scope="module", params=[1, 2], ids=["FireRedASR-AED", "FireRedASR2-AED"])
def prepared(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"v{request.param}")
    model_dir = make_model_dir(root / "model", version=request.param)
    out = {v: root / "prepared" / v for v in ("onnxruntime-fp32", "onnxruntime-int8")}
    for variant, path in out.items():
        manifest = prepare(model_dir, path, variant)
        assert manifest["ctc"] == (request.param == 2)
    return load_model_dir(model_dir), out


@torch.inference_mode()
def test_onnx_fp32_matches_torch(prepared):
    ours, out = prepared
    manifest, cfg = read_manifest(out["onnxruntime-fp32"], "onnxruntime-fp32")
    assert cfg == ours.model.cfg
    onnx = OnnxAed(out["onnxruntime-fp32"], cfg, threads=2)
    feats, lengths = audio_batch(ours)  # unequal lengths: padding and masks

    enc, mask = ours.model.encoder(feats, lengths)
    outs = onnx.encoder.run(None, {"feats": feats.numpy(), "lengths": lengths.numpy()})
    assert torch.equal(torch.from_numpy(outs[1]), mask)
    valid = mask[:, 0, :, None]
    assert torch.allclose(torch.from_numpy(outs[0]) * valid, enc * valid, atol=1e-4)
    if ours.model.ctc is not None:
        assert torch.allclose(torch.from_numpy(outs[2]) * valid, ours.model.ctc(enc) * valid, atol=1e-4)

    for beam in (1, 3):
        params = BeamParams(beam_size=beam, nbest=beam, decode_max_len=20, softmax_smoothing=1.25, length_penalty=0.6)
        expected = ours.model.transcribe(feats, lengths, params, timestamps=True)
        got = onnx.transcribe(feats, lengths, params, timestamps=True)
        assert [[h.tokens for h in u] for u in got] == [[h.tokens for h in u] for u in expected]
        assert np.allclose([h.score for u in got for h in u], [h.score for u in expected for h in u], atol=1e-4)
        assert [u[0].times for u in got] == [u[0].times for u in expected]
    assert any(u[0].tokens for u in expected)
    if ours.model.ctc is not None:  # FireRedASR2: CTC token times come out of the ONNX encoder too
        assert any(u[0].times for u in got)


@torch.inference_mode()
def test_onnx_int8_stays_close_to_fp32(prepared):
    ours, out = prepared
    _, cfg = read_manifest(out["onnxruntime-int8"], "onnxruntime-int8")
    graph = json.loads((out["onnxruntime-int8"] / "manifest.json").read_text())["files"]
    assert graph == ["encoder.onnx", "cross.onnx", "decoder.onnx"]
    int8 = OnnxAed(out["onnxruntime-int8"], cfg, threads=2)
    import onnx

    ops = {n.op_type for name in graph for n in onnx.load(str(out["onnxruntime-int8"] / name), load_external_data=False).graph.node}
    assert "MatMulInteger" in ops or "DynamicQuantizeMatMul" in ops

    feats, lengths = audio_batch(ours)
    enc32, mask = ours.model.encoder(feats, lengths)
    enc8 = torch.from_numpy(int8.encoder.run(None, {"feats": feats.numpy(), "lengths": lengths.numpy()})[0])
    valid = mask[:, 0, :, None]
    assert rel_err(enc8 * valid, enc32 * valid) < MAX_REL_ERR

    sos = torch.full((3,), cfg.sos_id)
    logits32, _ = ours.model.decoder.step(sos, 0, ours.model.decoder.init_state(enc32, mask, beams=1))
    logits8, _ = int8.decoder.step(sos, 0, int8.decoder.init_state(enc32, mask, beams=1))
    assert rel_err(logits8, logits32) < MAX_REL_ERR
    hyps = int8.transcribe(feats, lengths, BeamParams(beam_size=3, decode_max_len=8))
    assert len(hyps) == 3 and all(len(u[0].tokens) <= 8 for u in hyps)


def test_fp16_variant_is_a_memory_mappable_half_copy(tmp_path):
    model_dir = make_model_dir(tmp_path / "model")
    prepare(model_dir, tmp_path / "fp16", "torch-fp16")
    assert not list(tmp_path.glob(".*.tmp"))  # written beside, then renamed into place
    half = load_model_dir(model_dir, checkpoint=tmp_path / "fp16" / "model.pth.tar").model
    full = load_model_dir(model_dir).model
    w16, w32 = half.encoder.layer_stack[0].ffn1.net[1].weight, full.encoder.layer_stack[0].ffn1.net[1].weight
    assert w16.dtype == torch.float16 and torch.equal(w16, w32.half())


@torch.inference_mode()
def test_onnx_decoding_past_the_cache_capacity_matches_torch(tmp_path):
    """The step graph reads the engine's cache buffers in place, positions past the decoded
    ones masked: 70 steps (buffers grow at 32 and 64) of a model that never ends a hypothesis,
    three beams reordering rows, two utterances: the same tokens and scores as torch."""
    model_dir = make_model_dir(tmp_path / "model", logit_std=None)
    prepare(model_dir, tmp_path / "fp32", "onnxruntime-fp32")
    ours = load_model_dir(model_dir)
    onnx = OnnxAed(tmp_path / "fp32", ours.model.cfg, threads=2)
    feats, lengths = audio_batch(ours, seconds=(2.0, 1.3))
    params = BeamParams(beam_size=3, nbest=3, decode_max_len=70)
    expected = ours.model.transcribe(feats, lengths, params)
    got = onnx.transcribe(feats, lengths, params)
    assert all(len(h.tokens) == 70 for u in expected for h in u)
    assert [[h.tokens for h in u] for u in got] == [[h.tokens for h in u] for u in expected]
    assert np.allclose([h.score for u in got for h in u], [h.score for u in expected for h in u], rtol=1e-4)


def test_a_prepared_folder_for_another_variant_or_format_is_refused(prepared, tmp_path):
    _, out = prepared
    with pytest.raises(ModelFileError, match="onnxruntime-fp32.*not 'onnxruntime-int8'"):
        read_manifest(out["onnxruntime-fp32"], "onnxruntime-int8")
    with pytest.raises(ModelFileError, match="manifest.json"):
        read_manifest(out["onnxruntime-fp32"] / "missing", "onnxruntime-fp32")
    # a folder an earlier release prepared (its manifest has no format: graphs of format 1)
    old = tmp_path / "old"
    old.mkdir()
    manifest = json.loads((out["onnxruntime-fp32"] / "manifest.json").read_text())
    del manifest["format"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="prepared in format 1, this firescribe reads 2; rerun the prepare_model step"):
        read_manifest(old, "onnxruntime-fp32")


def test_config_picks_the_prepared_folder():
    def prepared_dir(**given):
        return default_settings(**given).asr.options.prepared_dir

    onnx = {"backend": "fireredasr-aed", "fireredasr_aed": {"runtime": "onnxruntime", "precision": "int8"}}
    assert prepared_dir(**onnx) == "results/work/model/fireredasr-aed/onnxruntime-int8"
    assert prepared_dir(backend="fireredasr-aed", fireredasr_aed={"runtime": "torch", "precision": "int8"}) is None
    assert prepared_dir(backend="fireredasr-aed", fireredasr_aed={"precision": "fp16"}) == "results/work/model/fireredasr-aed/torch-fp16"
    assert prepared_dir(backend="whisper") is None
    # GPU jobs of such a run use torch fp16; the CPU jobs' ONNX variant is still prepared
    assert prepared_dir(**onnx, asr={"device": "auto"}) == "results/work/model/fireredasr-aed/onnxruntime-int8"
    with pytest.raises(ValueError, match="not available"):
        default_settings(backend="fireredasr-aed", fireredasr_aed={"runtime": "onnxruntime", "precision": "fp16"})


def _onnx_backend(prepared, device: str):
    from firescribe.engines.backends.fireredasr import FireRedAedBackend

    ours, out = prepared
    options = firered_options(ours.model_dir, runtime="onnxruntime", precision="int8", prepared_dir=str(out["onnxruntime-int8"]), decode_max_len=6)
    return FireRedAedBackend(options, threads=1, device=device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without a GPU")
def test_an_onnx_run_without_a_free_gpu_stays_on_onnx_runtime(prepared):
    backend = _onnx_backend(prepared, "auto")
    assert (backend.describe()["runtime"], backend.describe()["device"]) == ("onnxruntime", "cpu")
    audio = (np.random.default_rng(0).standard_normal(32000) * 3000).astype(np.int16)
    assert len(backend.transcribe([audio], None)) == 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_jobs_of_an_onnx_run_use_torch_fp16(prepared):
    backend = _onnx_backend(prepared, "cuda")
    d = backend.describe()
    assert (d["runtime"], d["precision"], d["device"]) == ("torch", "fp16", "cuda")
    audio = (np.random.default_rng(0).standard_normal(32000) * 3000).astype(np.int16)
    assert len(backend.transcribe([audio], None)) == 1


def test_a_missing_or_broken_graph_names_the_file(prepared, tmp_path):
    _, out = prepared
    _, cfg = read_manifest(out["onnxruntime-fp32"], "onnxruntime-fp32")
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("encoder.onnx", "cross.onnx"):
        (broken / name).symlink_to(out["onnxruntime-fp32"] / name)
        (broken / f"{name}.data").symlink_to(out["onnxruntime-fp32"] / f"{name}.data")
    with pytest.raises(ModelFileError, match=r"decoder\.onnx.*missing; run the workflow's prepare_model step"):
        OnnxAed(broken, cfg, threads=1)
    (broken / "decoder.onnx").write_text("not a graph")
    with pytest.raises(ModelFileError, match=r"decoder\.onnx.*not a loadable ONNX graph"):
        OnnxAed(broken, cfg, threads=1)
