"""Run one ASR chunk: the chunk's inputs (units of one file or of several short ones),
length-batched, through a backend.

The next batch's audio is read in a background thread while the model works on the
current one (prefetch). Progress goes to the job's log.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict

import numpy as np

from firescribe.engines.backends import load_backend
from firescribe.engines.backends.base import Backend
from firescribe.plumbing import gpu as gpus
from firescribe.plumbing.gpu import is_out_of_memory, release_gpu_memory
from firescribe.plumbing.io import read_json, write_json
from firescribe.plumbing.pcm import SAMPLE_RATE, open_pcm, read_span
from firescribe.plumbing.store import Store, entry_key, workflow_store
from firescribe.settings import BACKENDS, AsrSettings, Placement
from firescribe.steps.plan import FILE_GAP_S, Stitching, make_batches
from firescribe.text.guard import GuardParams, guard_unit
from firescribe.text.hotwords import Hotword

log = logging.getLogger(__name__)


class Decoder:
    """A backend that survives running out of GPU memory (the GPU is shared with other
    services): a batch that does not fit is split in halves and retried; a single unit that
    does not fit moves the job to ``cpu_fallback()`` for the rest of the chunk. Nothing is
    dropped; each step is logged."""

    def __init__(
        self,
        backend: Backend | Callable[[], tuple[Backend, Callable[[], Backend] | None, int]],
        cpu_fallback: Callable[[], Backend] | None = None,
        budget_mb: int = 0,
        identity: dict | None = None,
    ):
        # ``backend``, or a function that loads it when first used and says its CPU fallback
        # and GPU memory budget: a job whose every input is in the per-file store loads no model
        lazy = not hasattr(backend, "transcribe")
        self._loader = backend if lazy else None
        self._backend = None if lazy else backend
        self.cpu_fallback, self.budget_mb = cpu_fallback, budget_mb
        # what shapes this decoder's results, for the per-file store's keys (firescribe.plumbing.store):
        # {"asr": AsrSettings.params(), "hotwords": [...]}; None: nothing is kept
        self.identity = identity

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend, self.cpu_fallback, self.budget_mb = self._loader()
        return self._backend

    @backend.setter
    def backend(self, value: Backend) -> None:
        self._backend = value

    def units_that_fit(self, audio: list) -> int:
        """How many of ``audio``'s units (its longest decides) one batch of a GPU job may hold
        in its memory budget, where the backend has a memory model (``units_that_fit``); else all."""
        fits = getattr(self.backend, "units_that_fit", None)
        if not self.budget_mb or fits is None or not audio:
            return len(audio)
        return fits(self.budget_mb, max(len(a) for a in audio) / SAMPLE_RATE) or len(audio)

    def describe(self) -> dict:
        return self.backend.describe()

    def redecode(self, unit: np.ndarray, language: str | None, guard: GuardParams, seed: int) -> tuple[list, dict]:
        return self.backend.redecode(unit, language, guard, seed)

    def transcribe(self, audio: list, language: str | None) -> list:
        limit = self.units_that_fit(audio)
        if limit < len(audio):
            log.info("a batch of %d units over the GPU memory budget (%d MB): decoded %d at a time", len(audio), self.budget_mb, limit)
            return [out for i in range(0, len(audio), limit) for out in self.transcribe(audio[i : i + limit], language)]
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
            self.backend, self.cpu_fallback, self.budget_mb = self.cpu_fallback(), None, 0
            release_gpu_memory()  # the GPU model is gone: give its memory back to the other tenants
            return self.backend.transcribe(audio, language)


def split_members(segments: list[dict], places: list[tuple[float, float]]) -> list[list[dict]]:
    """An input's segments (times in its audio) given back to the file units it joins:
    ``places[m]`` is (start, end) of member ``m``'s audio in the input (members are apart by
    FILE_GAP_S of silence). Per member, its segments with times in its own audio. A word
    belongs to the member it ends in (or, ending in the silence after a member, to that
    member): whisper stretches the first word of an utterance back over the pause before
    it, often into the end of the file before, but ends it in its own; its times are clamped
    into its member. A segment over several members is cut into one per member, of its
    words there; one without words goes by its end too."""
    if len(places) == 1:  # a single file unit: its segments as they are
        return [segments]

    starts = [start for start, _ in places]

    def member(a: float, b: float) -> int:  # the file it ends in, or the one before the gap it ends in
        return max(bisect.bisect_right(starts, b) - 1, 0)

    def local(t: float, m: int) -> float:  # in member m's own audio, clamped into it
        start, end = places[m]
        return round(min(max(t, start), end) - start, 3)

    out: list[list[dict]] = [[] for _ in places]
    for d in segments:
        if not d["words"]:
            m = member(d["start"], d["end"])
            out[m].append({**d, "start": local(d["start"], m), "end": local(d["end"], m)})
            continue
        groups: list[tuple[int, list[dict]]] = []
        for w in d["words"]:
            m = member(w["start"], w["end"])
            if not groups or groups[-1][0] != m:
                groups.append((m, []))
            groups[-1][1].append({**w, "start": local(w["start"], m), "end": local(w["end"], m)})
        for m, words in groups:
            text = "".join(w["text"] for w in words).strip()
            out[m].append({**d, "start": words[0]["start"], "end": words[-1]["end"], "text": text, "words": words})
    return out


def join_members(parts: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """An input's audio: its members' ``parts`` joined FILE_GAP_S of silence apart; and
    (start, end) of each member's audio in it (``split_members``)."""
    gap = np.zeros(round(FILE_GAP_S * SAMPLE_RATE), dtype=np.float32)
    places, at = [], 0
    for p in parts:
        places.append((at / SAMPLE_RATE, (at + len(p)) / SAMPLE_RATE))
        at += len(p) + len(gap)
    return np.concatenate([x for p in parts for x in (gap, p)][1:]), places


def to_media(segments: list[dict], unit: list[list[float]]) -> list[dict]:
    """A file unit's segments (times in its audio) on its media's timeline, clamped into its
    spans (in place)."""
    timeline = Stitching([(a, b) for a, b in unit])
    for d in segments:
        d["start"], d["end"] = timeline.span_to_media(d["start"], d["end"])
        for w in d["words"]:
            w["start"], w["end"] = timeline.span_to_media(w["start"], w["end"])
    return segments


def unit_seed(sample: str, unit: int, spans: list, language: str | None, engine: dict, guard: GuardParams) -> int:
    """The seed of a file unit's re-decode (32 bits): from what identifies the work, the file
    (``sample``), the unit's place in it (its index and ``spans``), the language, the
    backend's model and decoding options (``engine``: its ``describe()``) and the guard's
    thresholds; never from the run (time, host, chunk, batch, job). The same work then
    samples the same way on every run."""
    work = [sample, unit, spans, language, {k: engine.get(k) for k in ("backend", "model", "options")}, asdict(guard)]
    return int.from_bytes(hashlib.sha256(json.dumps(work, sort_keys=True).encode()).digest()[:4], "big")


def transcribe_chunk(
    backend: Backend | Decoder,
    wavs: dict[str, str],
    plan: dict,
    chunk: int,
    language: str | None,
    batch_s: float,
    guard: GuardParams,
    model: dict | None = None,
    store: Store | None = None,
) -> dict:
    """Transcribe chunk ``chunk`` of a shard's ``plan`` (``wavs``: sample -> its WAV); return
    the chunk document (deterministic): per file unit, its spans and segments on its media's
    timeline. An input of several files is decoded at once and its text given back to each
    (``split_members``); each file unit then passes the guard (``guard.enabled``) on its
    own, re-decoded alone where it trips, and records what the guard did. With a ``store``
    (firescribe.plumbing.store) and a ``Decoder`` that knows its ``identity``, an input whose result
    is stored is not decoded (``input_keys``), and each decoded one is stored."""
    input_ids = plan["chunks"][chunk]
    inputs = [plan["inputs"][i] for i in input_ids]
    units = [[plan["samples"][sample]["units"][k] for sample, k in members] for members in inputs]
    durations = [sum(b - a for unit in us for a, b in unit) for us in units]
    batches = make_batches(durations, batch_s)
    pcms = {sample: open_pcm(wavs[sample]) for members in inputs for sample, _ in members}
    results: dict[tuple[int, int], list[dict]] = {}  # (input, member) -> segments in its audio
    records: dict[tuple[int, int], dict] = {}  # (input, member) -> what the guard found and did
    identity = getattr(backend, "identity", None)
    keys: list[str] = []
    stored: dict[int, dict] = {}
    if store is not None and identity is not None:
        keys = input_keys(inputs, units, batches, pcms, identity, language, guard, model)
        stored = {k: e for k, e in enumerate(store.get_json("asr", key) for key in keys) if e is not None and len(e["results"]) == len(inputs[k])}
        if BACKENDS[identity["asr"]["backend"]].batch_shapes_results:  # a batch is stored whole or decoded whole
            batches = [b for b in batches if any(k not in stored for k in b)]
            stored = {k: e for k, e in stored.items() if not any(k in b for b in batches)}
        else:  # the inputs to decode, batched among themselves
            todo = [k for k in range(len(inputs)) if k not in stored]
            batches = [[todo[i] for i in b] for b in make_batches([durations[k] for k in todo], batch_s)]
        for k, entry in stored.items():
            for m, found in enumerate(entry["results"]):
                results[(k, m)] = found
                if entry["records"][m] is not None:
                    records[(k, m)] = entry["records"][m]
        for key in keys:
            store.use("asr", key)
        log.info("asr chunk %d: %d of %d inputs stored, %d to decode", chunk, len(stored), len(inputs), len(inputs) - len(stored))
    total_audio = sum(durations[k] for b in batches for k in b)
    engine = backend.describe() if batches or not stored else next(iter(stored.values()))["engine"]
    done_audio, t0 = 0.0, time.monotonic()

    def load(batch: list[int]):  # per input, each member's audio: its spans joined
        return [
            [np.concatenate([read_span(pcms[sample], a, b) for a, b in unit]) for (sample, _), unit in zip(inputs[k], units[k])]
            for k in batch
        ]

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(load, batches[0]) if batches else None
        for bi, batch in enumerate(batches):
            audio = pending.result()
            pending = pool.submit(load, batches[bi + 1]) if bi + 1 < len(batches) else None
            joined = [join_members(parts) for parts in audio]
            for k, parts, (_, places), segments in zip(batch, audio, joined, backend.transcribe([a for a, _ in joined], language)):
                for m, found in enumerate(split_members([asdict(s) for s in segments], places)):
                    key = (k, m)
                    results[key] = found
                    if not guard.enabled:
                        continue
                    seconds = sum(b - a for a, b in units[k][m])
                    sample, unit = inputs[k][m]
                    seed = unit_seed(sample, unit, units[k][m], language, engine, guard)

                    def redecode(a=parts[m], seed=seed):
                        segments, how = backend.redecode(a, language, guard, seed)
                        return [asdict(s) for s in segments], how

                    results[key], record = guard_unit(found, seconds, guard, redecode)
                    if record is not None:
                        records[key] = record
                        log.warning("guard: %s unit %d (%.1f s at %.1f s): %s", sample, unit, seconds, units[k][m][0][0], record)
                if keys:  # written now: to_media changes the results in place later
                    entry = {"results": [results[(k, m)] for m in range(len(parts))], "records": [records.get((k, m)) for m in range(len(parts))], "engine": engine}
                    store.put_json("asr", keys[k], entry)
            done_audio += sum(durations[k] for k in batch)
            elapsed = time.monotonic() - t0
            log.info(
                "asr chunk %d: inputs %d/%d, audio %.1f/%.1f s, elapsed %.1f s, RTF %.3f",
                chunk,
                len({k for k, _ in results}),
                len(inputs),
                done_audio,
                total_audio,
                elapsed,
                elapsed / max(done_audio, 1e-9),
            )

    out = []
    for k, members in enumerate(inputs):
        for m, (sample, unit) in enumerate(members):
            out.append(
                {
                    "sample": sample,
                    "unit": unit,
                    "spans": units[k][m],
                    "segments": to_media(results[(k, m)], units[k][m]),
                    **({"guard": records[(k, m)]} if (k, m) in records else {}),
                }
            )
    return {"chunk": chunk, "units": out, "engine": {**engine, **(model or {})}}


def input_keys(inputs: list, units: list, batches: list[list[int]], pcms: dict, identity: dict, language: str | None, guard: GuardParams, model: dict | None) -> list[str]:
    """The per-file store's key of each input of a chunk: its members (sample, unit index,
    spans: the guard's seed comes from them) and their audio (a hash of the samples the model
    hears), the decoder's ``identity`` (backend, model options, hotwords), the model files
    (``model``: model_info, with their checksum), the language and the guard; for a backend
    whose results depend on the batch (``BackendFacts.batch_shapes_results``), the other
    inputs of its batch too."""
    audio = []
    for members, us in zip(inputs, units):
        h = hashlib.blake2b(digest_size=20)
        for (sample, _), unit in zip(members, us):
            for a, b in unit:
                h.update(np.ascontiguousarray(read_span(pcms[sample], a, b)).tobytes())
        audio.append([members, us, h.hexdigest()])
    shaped = BACKENDS[identity["asr"]["backend"]].batch_shapes_results
    batch_of = {k: b for b in batches for k in b}
    return [
        entry_key("asr", audio[k], identity, model, language, asdict(guard), [audio[j] for j in batch_of[k]] if shaped else None)
        for k in range(len(inputs))
    ]


def run_chunk(
    backend: Backend | Decoder,
    wavs: dict[str, str],
    plan_json: str,
    model_json: str,
    chunk: int,
    out_json: str,
    language: str | None,
    batch_s: float,
    guard: GuardParams,
    store: Store | None | str = "workflow",
) -> None:
    """The asr rule's job: ``transcribe_chunk`` into ``out_json``, with the per-file store
    ("workflow": the workflow's, where ``out_json`` is ``results/work/asr/<shard>/<chunk>.json``)."""
    if store == "workflow":
        store = workflow_store(out_json, depth=3)
    doc = transcribe_chunk(backend, wavs, read_json(plan_json), chunk, language, batch_s, guard, read_json(model_json), store)
    write_json(out_json, doc)
    if store is not None:
        store.remember()


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
    def load(device: str) -> Backend:
        return load_backend(asr.backend, asr.options, threads=threads, device=device, hotwords=hotwords)

    with contextlib.ExitStack() as stack:

        def load_first() -> tuple[Backend, Callable[[], Backend] | None, int]:
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
            return backend, (lambda: load("cpu")) if on_gpu else None, gpu_mem_mb if on_gpu else 0

        identity = {"asr": asr.params(), "hotwords": [asdict(h) for h in hotwords]}
        yield Decoder(load_first, identity=identity)
