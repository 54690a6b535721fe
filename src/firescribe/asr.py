"""Run one ASR chunk: the chunk's units, length-batched, through a backend.

The next batch's audio is read in a background thread while the model works on the
current one (prefetch). Progress goes to the job's log.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict

from firescribe.audio import open_pcm, read_span
from firescribe.backends.base import Backend
from firescribe.io import read_json, write_json
from firescribe.plan import make_batches

log = logging.getLogger(__name__)


def transcribe_chunk(backend: Backend, wav: str, plan: dict, chunk: int, language: str | None, batch_s: float, model: dict | None = None) -> dict:
    """Transcribe chunk ``chunk`` of ``plan``; return the chunk document (deterministic)."""
    unit_ids = plan["chunks"][chunk]
    spans = [tuple(plan["units"][i]) for i in unit_ids]
    durations = [b - a for a, b in spans]
    batches = make_batches(durations, batch_s)
    pcm = open_pcm(wav)
    results: dict[int, list] = {}
    total_audio = sum(durations)
    done_audio, t0 = 0.0, time.monotonic()

    def load(batch: list[int]):
        return [read_span(pcm, *spans[k]) for k in batch]

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(load, batches[0]) if batches else None
        for bi, batch in enumerate(batches):
            audio = pending.result()
            pending = pool.submit(load, batches[bi + 1]) if bi + 1 < len(batches) else None
            for k, segments in zip(batch, backend.transcribe(audio, language)):
                results[k] = segments
            done_audio += sum(durations[k] for k in batch)
            elapsed = time.monotonic() - t0
            log.info(
                "asr chunk %d: units %d/%d, audio %.1f/%.1f s, elapsed %.1f s, RTF %.3f",
                chunk,
                len(results),
                len(spans),
                done_audio,
                total_audio,
                elapsed,
                elapsed / max(done_audio, 1e-9),
            )

    units = []
    for k, (a, b) in enumerate(spans):
        segs = []
        for s in results[k]:
            d = asdict(s)
            # unit-relative -> media timeline
            d["start"], d["end"] = _on_timeline(a, b, s.start, s.end)
            for w in d["words"]:
                w["start"], w["end"] = _on_timeline(a, b, w["start"], w["end"])
            segs.append(d)
        units.append({"start": a, "end": b, "segments": segs})
    return {"chunk": chunk, "units": units, "engine": {**backend.describe(), **(model or {})}}


def _on_timeline(a: float, b: float, start: float, end: float) -> tuple[float, float]:
    """Unit-relative times -> media timeline, clamped into the unit [a, b]."""
    start = min(max(a + start, a), b)
    return round(start, 3), round(min(max(a + end, start), b), 3)


def run_chunk(backend: Backend, wav: str, plan_json: str, model_json: str, chunk: int, out_json: str, language: str | None, batch_s: float) -> None:
    doc = transcribe_chunk(backend, wav, read_json(plan_json), chunk, language, batch_s, read_json(model_json))
    write_json(out_json, doc)
