"""GPU slots, chunk placement and out-of-memory handling.

The slot locks are exercised for real (flock across processes). A real CUDA out-of-memory
needs a GPU: here a backend raising PyTorch's own ``torch.cuda.OutOfMemoryError`` above a
batch size stands in for a GPU that is partly taken by another service. The test at the
end runs the workflow on a GPU and is skipped where CUDA is absent.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from firescribe.plumbing.gpu import gpu_slot, is_gpu_chunk, is_out_of_memory
from firescribe.steps.asr import Decoder


def test_gpu_share_spreads_gpu_chunks_evenly():
    assert [is_gpu_chunk(k, "cuda", 1.0) for k in range(4)] == [True] * 4
    assert [is_gpu_chunk(k, "cpu", 1.0) for k in range(4)] == [False] * 4
    assert [is_gpu_chunk(k, "auto", 0.5) for k in range(6)] == [False, True] * 3
    assert sum(is_gpu_chunk(k, "cuda", 0.75) for k in range(100)) == 75


def test_each_job_claims_a_different_gpu_and_a_third_gets_none(tmp_path):
    # two other processes hold GPU 0 and GPU 1; this one must find no free slot
    holder = (
        "import sys, time; from firescribe.plumbing.gpu import gpu_slot\n"
        "with gpu_slot(sys.argv[1], [0, 1]) as g:\n"
        "    print(g, flush=True); time.sleep(30)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", holder, str(tmp_path)], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        claimed = sorted(int(p.stdout.readline()) for p in procs)
        assert claimed == [0, 1]
        with gpu_slot(tmp_path, [0, 1]) as g:
            assert g is None
    finally:
        for p in procs:
            p.kill()
            p.wait()
    # a killed holder's lock is released by the kernel
    with gpu_slot(tmp_path, [0, 1]) as g:
        assert g == 0


class SharedGpuBackend:
    """Decodes (the unit lengths as text) but runs out of memory on batches above ``fits``."""

    def __init__(self, fits: int, name: str):
        self.fits, self.name, self.calls = fits, name, []

    def describe(self) -> dict:
        return {"backend": self.name}

    def transcribe(self, batch, language):
        self.calls.append(len(batch))
        if len(batch) > self.fits:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return [[str(len(x))] for x in batch]


def test_out_of_memory_halves_the_batch_then_falls_back_to_cpu():
    gpu, cpu = SharedGpuBackend(fits=2, name="gpu"), SharedGpuBackend(fits=99, name="cpu")
    dec = Decoder(gpu, cpu_fallback=lambda: cpu)
    batch = [[0] * n for n in range(1, 6)]
    assert dec.transcribe(batch, None) == [["1"], ["2"], ["3"], ["4"], ["5"]]
    assert gpu.calls == [5, 2, 3, 1, 2]  # 5 -> 2 + 3 -> 3 = 1 + 2: nothing lost, order kept
    assert dec.describe()["backend"] == "gpu"

    gpu = SharedGpuBackend(fits=0, name="gpu")  # not even one unit fits: move to the CPU
    dec = Decoder(gpu, cpu_fallback=lambda: cpu)
    assert dec.transcribe(batch[:2], None) == [["1"], ["2"]]
    assert dec.describe()["backend"] == "cpu"


def test_other_errors_are_not_mistaken_for_out_of_memory():
    assert is_out_of_memory(RuntimeError("CUDA failed with error out of memory"))  # CTranslate2's wording
    assert not is_out_of_memory(ValueError("bad input"))

    class Broken(SharedGpuBackend):
        def transcribe(self, batch, language):
            raise ValueError("bad input")

    with pytest.raises(ValueError):
        Decoder(Broken(1, "gpu"), cpu_fallback=lambda: None).transcribe([[0], [0]], None)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.media_tools
def test_workflow_on_gpu(tmp_path):
    from support import media
    from support.workflow import snakemake

    media_dir = tmp_path / "media"
    media_dir.mkdir()
    media.speech_track(media.SENTENCES[:4], [0.8] * 4, media_dir / "talk.wav")
    work = tmp_path / "run"
    work.mkdir()
    snakemake(work, "--resources", "gpu=1", config={"input": media_dir, "asr": {"device": "cuda"}})
    log = next((work / "results" / "logs" / "asr" / "talk").glob("*.log")).read_text()
    assert "claimed GPU 0" in log and "asr job on GPU" in log


def test_the_memory_model_sizes_batches_by_budget_precision_beam_and_length():
    from firescribe.engines.fireredasr.memory import unit_bytes, units_that_fit
    from firescribe.engines.fireredasr.model import AedConfig

    aed_l = AedConfig(idim=80, odim=7832, d_model=1280, n_head=20, n_layers_enc=16, n_layers_dec=16, kernel_size=33, pe_maxlen=5000, sos_id=3, eos_id=4, pad_id=2)
    weights = {"fp32": 4 * 1_140_000_000, "fp16": 2 * 1_140_000_000}
    fit = {p: units_that_fit(8000, weights[p], aed_l, p, 3, 10.0) for p in weights}
    # half precision: half the weights and half the activations, so more than twice the units
    assert fit["fp16"] > 2 * fit["fp32"] >= 2
    assert units_that_fit(16000, weights["fp16"], aed_l, "fp16", 3, 10.0) > 2 * fit["fp16"]
    # the encoder's attention is quadratic in the unit's length: 6x the length, far fewer than 1/6 the units
    assert units_that_fit(8000, weights["fp16"], aed_l, "fp16", 3, 60.0) < fit["fp16"] / 6
    assert unit_bytes(aed_l, "fp16", 10, 10.0) > unit_bytes(aed_l, "fp16", 1, 10.0)  # beams' caches
    # a budget that holds only the weights still decodes one unit at a time (out-of-memory: the CPU)
    assert units_that_fit(2000, weights["fp16"], aed_l, "fp16", 3, 10.0) == 1
    # order of magnitude: 10 s of AED-L in fp16 costs tens of MB, not GB
    assert 10 * 2**20 < unit_bytes(aed_l, "fp16", 3, 10.0) < 200 * 2**20


class BudgetedBackend(SharedGpuBackend):
    """As a FireRedASR GPU backend: a memory model saying how many units of a length fit."""

    def units_that_fit(self, budget_mb, seconds):
        return max(1, int(budget_mb // (100 * seconds)))


def test_a_gpu_job_splits_a_batch_its_memory_budget_cannot_hold():
    gpu = BudgetedBackend(fits=99, name="gpu")
    batch = [np.zeros(16000 * n, np.float32) for n in (2, 2, 1, 1, 1)]  # longest 2 s: 1000 MB fit 5
    assert Decoder(gpu, budget_mb=1000).transcribe(batch, None) == [[str(len(a))] for a in batch]
    assert gpu.calls == [5]
    gpu.calls.clear()
    assert Decoder(gpu, budget_mb=400).transcribe(batch, None) == [[str(len(a))] for a in batch]
    assert gpu.calls == [2, 2, 1]  # 400 MB hold 2 units of 2 s: order kept
    gpu.calls.clear()
    Decoder(gpu).transcribe(batch, None)  # a CPU job (no budget): the batch as planned
    assert gpu.calls == [5]


@pytest.mark.media_tools
def test_out_of_memory_in_the_engine_finishes_the_job_on_the_cpu_with_the_same_text(tmp_path, monkeypatch):
    """The real FireRedASR backend as a GPU job whose engine runs out of memory at its real call
    site (``FireRedAed.transcribe`` raising PyTorch's ``OutOfMemoryError``, as CUDA's allocator
    does): the batch is halved, then the job moves to a freshly loaded CPU backend, and every
    unit gets the text (and word times) a CPU job gives for the same batches."""
    from support import media, official
    from support.settings import firered_options

    from firescribe.engines.backends.fireredasr import FireRedAedBackend
    from firescribe.plumbing.pcm import open_pcm, to_float

    model_dir = official.make_model_dir(tmp_path / "model", version=2)
    audio = [to_float(np.asarray(open_pcm(media.speak(text, tmp_path / f"u{i}.wav")))) for i, text in enumerate(media.SENTENCES[:3])]
    gpu = FireRedAedBackend(firered_options(model_dir), threads=1)
    tried = []

    def out_of_memory(feats, *args, **kwargs):
        tried.append(len(feats))
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 19.50 GiB total capacity)")

    monkeypatch.setattr(gpu.model, "transcribe", out_of_memory)  # this instance only: the fallback loads its own
    loaded = []

    def cpu_fallback():
        loaded.append(FireRedAedBackend(firered_options(model_dir), threads=1))
        return loaded[-1]

    decoder = Decoder(gpu, cpu_fallback=cpu_fallback)
    got = decoder.transcribe(audio, None)
    assert tried == [3, 1] and len(loaded) == 1  # 3 -> 1 + 2; the single unit moves the job to the CPU
    assert decoder.backend is loaded[0] and decoder.describe()["device"] == "cpu"
    cpu = FireRedAedBackend(firered_options(model_dir), threads=1)
    want = cpu.transcribe(audio[:1], None) + cpu.transcribe(audio[1:], None)
    assert got == want and any(seg.text for unit in got for seg in unit)
