"""Run one ASR chunk: the chunk's units, length-batched, through a backend.

The next batch's audio is read in a background thread while the model works on the
current one (prefetch). Progress goes to the job's log.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict

import numpy as np

from firescribe.audio import open_pcm, read_span
from firescribe.backends.base import Backend
from firescribe.guard import GuardParams, guard_unit
from firescribe.hotwords import Hotword
from firescribe.gpu import is_out_of_memory, release_gpu_memory
from firescribe.io import read_json, write_json
from firescribe.plan import Stitching, make_batches, plan_units, unit_seconds
from firescribe.settings import BACKENDS, AsrSettings, Placement

log = logging.getLogger(__name__)


class Decoder:
    """A backend that survives running out of GPU memory (the GPU is shared with other
    services): a batch that does not fit is split in halves and retried; a single unit that
    does not fit moves the job to ``cpu_fallback()`` for the rest of the chunk. Nothing is
    dropped; each step is logged."""

    def __init__(self, backend: Backend, cpu_fallback: Callable[[], Backend] | None = None):
        self.backend, self.cpu_fallback = backend, cpu_fallback

    def describe(self) -> dict:
        return self.backend.describe()

    def redecode(self, unit: np.ndarray, language: str | None, guard: GuardParams) -> list:
        return self.backend.redecode(unit, language, guard)

    def transcribe(self, audio: list, language: str | None) -> list:
        try:
            return self.backend.transcribe(audio, language)
        except Exception as exc:  # noqa: BLE001 - only out-of-memory is handled, the rest re-raised
            if not is_out_of_memory(exc):
                raise
            if len(audio) > 1:
                half = len(audio) // 2
                log.warning("out of GPU memory on a batch of %d units: retrying as %d + %d", len(audio), half, len(audio) - half)
                return self.transcribe(audio[:half], language) + self.transcribe(audio[half:], language)
            if self.cpu_fallback is None:
                raise
            log.warning("out of GPU memory on a single unit (%s): continuing this chunk on the CPU", str(exc).splitlines()[0][:200])
            self.backend, self.cpu_fallback = self.cpu_fallback(), None
            release_gpu_memory()  # the GPU model is gone: give its memory back to the other tenants
            return self.backend.transcribe(audio, language)


def transcribe_chunk(
    backend: Backend | Decoder, wav: str, plan: dict, chunk: int, language: str | None, batch_s: float, guard: GuardParams, model: dict | None = None
) -> dict:
    """Transcribe chunk ``chunk`` of ``plan``; return the chunk document (deterministic).
    Each unit passes the guard (``guard.enabled``); a unit it tripped records what it did."""
    unit_ids = plan["chunks"][chunk]
    all_units = plan_units(plan)
    units = [all_units[i] for i in unit_ids]
    durations = [unit_seconds(u) for u in units]
    batches = make_batches(durations, batch_s)
    pcm = open_pcm(wav)
    results: dict[int, list[dict]] = {}  # unit -> its segments, times in the unit's audio
    records: dict[int, dict] = {}  # unit -> what the guard found and did
    total_audio = sum(durations)
    done_audio, t0 = 0.0, time.monotonic()

    def load(batch: list[int]):  # each unit's audio: its spans joined
        return [np.concatenate([read_span(pcm, a, b) for a, b in units[k]]) for k in batch]

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(load, batches[0]) if batches else None
        for bi, batch in enumerate(batches):
            audio = pending.result()
            pending = pool.submit(load, batches[bi + 1]) if bi + 1 < len(batches) else None
            for k, unit_audio, segments in zip(batch, audio, backend.transcribe(audio, language)):
                results[k] = [asdict(s) for s in segments]
                if guard.enabled:
                    results[k], record = guard_unit(
                        results[k], durations[k], guard, lambda a=unit_audio: [asdict(s) for s in backend.redecode(a, language, guard)]
                    )
                    if record is not None:
                        records[k] = record
                        log.warning("guard: unit %d (%.1f s at %.1f s): %s", unit_ids[k], durations[k], units[k][0][0], record)
            done_audio += sum(durations[k] for k in batch)
            elapsed = time.monotonic() - t0
            log.info(
                "asr chunk %d: units %d/%d, audio %.1f/%.1f s, elapsed %.1f s, RTF %.3f",
                chunk,
                len(results),
                len(units),
                done_audio,
                total_audio,
                elapsed,
                elapsed / max(done_audio, 1e-9),
            )

    out = []
    for k, unit in enumerate(units):
        timeline = Stitching(unit)  # unit audio -> media timeline, clamped into the unit's spans
        segs = []
        for d in results[k]:
            d["start"], d["end"] = timeline.span_to_media(d["start"], d["end"])
            for w in d["words"]:
                w["start"], w["end"] = timeline.span_to_media(w["start"], w["end"])
            segs.append(d)
        out.append({"spans": [list(span) for span in unit], "segments": segs, **({"guard": records[k]} if k in records else {})})
    return {"chunk": chunk, "units": out, "engine": {**backend.describe(), **(model or {})}}


def run_chunk(
    backend: Backend | Decoder, wav: str, plan_json: str, model_json: str, chunk: int, out_json: str, language: str | None, batch_s: float, guard: GuardParams
) -> None:
    doc = transcribe_chunk(backend, wav, read_json(plan_json), chunk, language, batch_s, guard, read_json(model_json))
    write_json(out_json, doc)


@contextlib.contextmanager
def asr_decoder(
    asr: AsrSettings, placement: Placement, threads: int, gpu_job: bool, gpu_mem_mb: int, lock_dir: str, hotwords: list[Hotword] = ()
) -> Iterator[Decoder]:
    """The decoder of one ASR job, biased towards the file's ``hotwords``. ``asr``: what
    shapes the results (backend and its options); ``placement``: where it runs (``device``,
    ``gpus``), kept apart so that moving a run to other GPUs re-runs nothing. A GPU
    job claims a free GPU slot (not under Slurm, which assigns the GPU itself), keeps inside its
    memory budget, and falls back to the CPU on out-of-memory; with no free slot or no CUDA it
    runs on the CPU."""
    from firescribe.backends import load_backend
    from firescribe import gpu as gpus

    def load(device: str) -> Backend:
        return load_backend(asr.backend, asr.options, threads=threads, device=device, hotwords=hotwords)

    with contextlib.ExitStack() as stack:
        device = "cpu"
        if gpu_job:
            slot = None if gpus.under_slurm() else stack.enter_context(gpus.gpu_slot(lock_dir, list(placement.gpus)))
            if slot is not None:
                gpus.use_gpu(slot)
            if slot is not None or gpus.under_slurm():
                device = placement.device
        backend = load(device)
        on_gpu = getattr(backend, "device", "cpu") == "cuda"
        if on_gpu and BACKENDS[asr.backend].gpu_memory_cap:
            gpus.limit_memory(gpu_mem_mb)
        log.info("asr job on %s", "GPU" if on_gpu else "CPU")
        yield Decoder(backend, cpu_fallback=(lambda: load("cpu")) if on_gpu else None)
