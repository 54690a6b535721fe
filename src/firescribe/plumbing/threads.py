"""Pin every math library of a job to exactly the job's ``threads``.

Call ``pin_threads`` first in a job's script, before numpy, torch, onnxruntime or ctranslate2
are imported (OpenBLAS, OpenMP and torch read these variables when they load), so that
``snakemake --cores N`` never runs more than N busy threads in total. Torch is not imported
here: a job that does not use it (VAD, whisper) would pay ~0.7 s to load it; torch sizes its
intra-op pool from OMP_NUM_THREADS when it loads, and its inter-op pool starts only when used.
"""

from __future__ import annotations

import os
import sys

_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "CT2_INTER_THREADS")


def pin_threads(threads: int) -> None:
    threads = max(1, int(threads))
    for var in _VARS:
        os.environ[var] = "1" if var == "CT2_INTER_THREADS" else str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:  # already loaded: it has read the variables
        torch.set_num_threads(threads)
