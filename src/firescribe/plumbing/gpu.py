"""Shared GPUs for ASR jobs: which chunks go to a GPU, which GPU a job takes, and how it
stays inside its memory budget.

Snakemake limits how many GPU jobs run at once (``resources: gpu=1`` per job, and
``--resources gpu=2`` on the command line); it does not say *which* GPU a job should use. A
job therefore claims a slot: one lock file per GPU, taken with a non-blocking ``flock`` (the
kernel drops the lock if the job dies, so a crash never leaves a GPU marked busy). Under
Slurm the scheduler assigns the GPU (``CUDA_VISIBLE_DEVICES``) and no slot is claimed.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
import os
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

# torch (~1 s) is imported where used: the Snakefile's parse imports this module (is_gpu_chunk)


def is_gpu_chunk(chunk: int, device: str, gpu_share: float) -> bool:
    """Whether chunk ``chunk`` runs as a GPU job: none with device cpu, otherwise an evenly
    spread ``gpu_share`` of the chunks (the rest run as CPU jobs at the same time)."""
    if device == "cpu" or gpu_share <= 0:
        return False
    return int((chunk + 1) * gpu_share) > int(chunk * gpu_share)


@contextlib.contextmanager
def gpu_slot(lock_dir: str | Path, gpus: list[int]) -> Iterator[int | None]:
    """Claim the first free GPU of ``gpus`` for the life of the block; yields its index, or
    None when all are taken (the caller then runs on the CPU)."""
    lock_dir = Path(lock_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    for gpu in gpus:
        f = open(lock_dir / f"gpu{gpu}.lock", "a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            continue
        try:
            log.info("claimed GPU %d (lock %s)", gpu, f.name)
            yield gpu
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
            f.close()
        return
    log.warning("all GPU slots %s are taken; running on the CPU", gpus)
    yield None


def under_slurm() -> bool:
    return "SLURM_JOB_ID" in os.environ


def use_gpu(gpu: int) -> None:
    """Make ``gpu`` the only visible device; call before torch/ctranslate2 touch CUDA."""
    os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)


def limit_memory(budget_mb: int) -> None:
    """Keep this process's PyTorch allocations inside ``budget_mb`` on the current GPU (other
    tenants use the rest); going past it raises an out-of-memory error that the ASR step
    handles by shrinking the batch or falling back to the CPU."""
    import torch

    total = torch.cuda.get_device_properties(0).total_memory
    fraction = min(1.0, budget_mb * 2**20 / total)
    torch.cuda.set_per_process_memory_fraction(fraction, 0)
    log.info("GPU memory budget %d MB (%.0f%% of %.0f GB)", budget_mb, 100 * fraction, total / 2**30)


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA out-of-memory from PyTorch (its own error type) or CTranslate2 (a RuntimeError)."""
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def release_gpu_memory() -> None:
    """Return PyTorch's cached, now unused GPU memory to the driver (no-op without CUDA)."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
