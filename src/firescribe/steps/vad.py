"""The vad step: the configured VAD (``firescribe.settings.VADS``: silero-vad in
``firescribe.engines.silero``, FireRedVAD in ``firescribe.engines.fireredvad``) over a shard's files, into
the shard's TSV (``firescribe.plumbing.segments``). The engines only detect; this step runs them over
the files and writes what they found."""

from __future__ import annotations

import importlib
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from firescribe.plumbing.pcm import open_pcm
from firescribe.plumbing.segments import write_segments
from firescribe.plumbing.store import Store, content_digest, entry_key, workflow_store
from firescribe.settings import VADS, vad_from_params

log = logging.getLogger(__name__)


class Vad(Protocol):
    """A VAD engine. A new one: this class (its module named in ``firescribe.settings.VADS``),
    an options dataclass (``params()``, ``from_params()``, ``pad_ms``), and a schema section."""

    events: bool  # whether it also hears events (singing, music) besides speech

    def __init__(self, options): ...

    @staticmethod
    def problems(options, download: str) -> list[str]:
        """What keeps its model from running, one line each naming the file (``download``: the
        command that gets the model); [] if it can run. Read only (the preflight)."""

    def detect(self, pcm: np.ndarray) -> tuple[list[tuple[float, float, str]], list[tuple[float, float, str]]]:
        """(segments, events) of int16 16 kHz ``pcm`` (may be a memmap): speech segments
        (start, end, label) in seconds, labelled ``speech`` or the event heard instead of
        speech (not transcribed), and the event spans (start, end, event). Called from
        several threads at once."""


def engine_class(name: str) -> type:
    """The class of VAD ``name`` (``VADS[name].engine``), its module imported now."""
    module, cls = VADS[name].engine.split(":")
    return getattr(importlib.import_module(module), cls)


def detect_files(wavs: dict[str, str], detect, workers: int, describe) -> dict:
    """``detect(wav)`` for each file of a shard (``wavs``: sample -> WAV), ``workers`` files at
    once (threads: the models run without Python's lock); each result logged as ``describe``
    says. Sample -> result, in the shard's order."""
    found = {}
    # one thread a file: numpy's BLAS (FireRedVAD's filterbank) at one thread too; with the
    # job's threads (pin_threads) each file's products spun that many threads (a job of 2 files
    # at once: +25% CPU, +10% wall on the real clips, 2026-12-04)
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(max_workers=workers) as pool:
        for i, (sample, result) in enumerate(zip(wavs, pool.map(detect, wavs.values())), 1):
            found[sample] = result
            log.info("vad %d/%d: %s: %s", i, len(wavs), sample, describe(result))
    return found


Found = tuple[list[tuple[float, float, str]], list[tuple[float, float, str]]]  # (segments, events)


def detect_shard(name: str, wavs: dict[str, str], options, workers: int = 1) -> dict[str, Found]:
    """VAD ``name`` with its ``options`` over files (sample -> WAV), ``workers`` files at
    once. Sample -> (segments, events), in ``wavs``' order."""
    engine = engine_class(name)(options)

    def describe(found) -> str:
        segments, heard = found
        speech = sum(b - a for a, b, label in segments if label == "speech")
        events = f", {len(heard)} singing/music spans" if engine.events else ""
        return f"{len(segments)} segments, {speech:.1f} s speech{events}"

    return detect_files(wavs, lambda wav: engine.detect(open_pcm(wav)), workers, describe)


def write_found(name: str, out_tsv: str, found: dict[str, Found]) -> None:
    """What VAD ``name`` found in a shard's files into the shard's TSV."""
    segments = {sample: f[0] for sample, f in found.items()}
    write_segments(out_tsv, segments, {sample: f[1] for sample, f in found.items()}, labels=VADS[name].labels)


def run_vad(name: str, wavs: dict[str, str], out_tsv: str, options, workers: int = 1) -> dict[str, list[tuple[float, float, str]]]:
    """VAD ``name`` with its ``options`` over the files of a shard (sample -> WAV), ``workers``
    files at once; their segments (and events) into the shard's TSV. Sample -> segments."""
    found = detect_shard(name, wavs, options, workers)
    write_found(name, out_tsv, found)
    return {sample: f[0] for sample, f in found.items()}


def run_job(wavs: dict[str, str], out_tsv: str, params: dict, workers: int, store: Store | None | str = "workflow") -> None:
    """The vad rule's job: the configured VAD (``Settings.vad_params``) over a shard's files.
    A file whose WAV (by content) was seen with the same ``params`` takes what was found in
    it from the per-file ``store`` (firescribe.plumbing.store; "workflow": the workflow's, where
    ``out_tsv`` is ``results/work/vad/<shard>.tsv``); the VAD runs on the others only."""
    name, options = vad_from_params(params)
    if store == "workflow":
        store = workflow_store(out_tsv, depth=2)
    if store is None:
        write_found(name, out_tsv, detect_shard(name, wavs, options, workers))
        return
    keys = {sample: entry_key("vad", content_digest(wav), params) for sample, wav in wavs.items()}
    stored = {sample: store.get_json("vad", key) for sample, key in keys.items()}
    todo = {sample: wav for sample, wav in wavs.items() if stored[sample] is None}
    log.info("vad: %d of %d files stored, %d to run", len(wavs) - len(todo), len(wavs), len(todo))
    fresh = detect_shard(name, todo, options, workers) if todo else {}
    for sample, (segments, events) in fresh.items():
        stored[sample] = {"segments": segments, "events": events}
        store.put_json("vad", keys[sample], stored[sample])
    for key in keys.values():
        store.use("vad", key)
    # JSON gives back lists; a float comes back as the same float, so the TSV is the same bytes
    write_found(name, out_tsv, {sample: (stored[sample]["segments"], stored[sample]["events"]) for sample in wavs})
    store.remember()
