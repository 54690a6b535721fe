"""Pin every math library of an ASR job to exactly the job's ``threads``.

Call ``pin_threads`` first in a job's script, before numpy, torch, onnxruntime or ctranslate2
are imported (OpenBLAS and OpenMP read their variables when they load), so that
``snakemake --cores N`` never runs more than N busy threads in total.
"""

from __future__ import annotations

import os

_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "CT2_INTER_THREADS")


def pin_threads(threads: int) -> None:
    threads = max(1, int(threads))
    for var in _VARS:
        os.environ[var] = "1" if var == "CT2_INTER_THREADS" else str(threads)
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set once in this process
        pass
