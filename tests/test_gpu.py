"""GPU slots, chunk placement and out-of-memory handling.

The slot locks are exercised for real (flock across processes). A real CUDA out-of-memory
needs a GPU: here a backend raising PyTorch's own ``torch.cuda.OutOfMemoryError`` above a
batch size stands in for a GPU that is partly taken by another service. The test at the
end runs the workflow on a GPU and is skipped where CUDA is absent.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from firescribe.asr import Decoder
from firescribe.gpu import gpu_slot, is_gpu_chunk, is_out_of_memory


def test_gpu_share_spreads_gpu_chunks_evenly():
    assert [is_gpu_chunk(k, "cuda", 1.0) for k in range(4)] == [True] * 4
    assert [is_gpu_chunk(k, "cpu", 1.0) for k in range(4)] == [False] * 4
    assert [is_gpu_chunk(k, "auto", 0.5) for k in range(6)] == [False, True] * 3
    assert sum(is_gpu_chunk(k, "cuda", 0.75) for k in range(100)) == 75


def test_each_job_claims_a_different_gpu_and_a_third_gets_none(tmp_path):
    # two other processes hold GPU 0 and GPU 1; this one must find no free slot
    holder = (
        "import sys, time; from firescribe.gpu import gpu_slot\n"
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
