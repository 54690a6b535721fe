"""Plan ASR work: VAD segments -> units (<= max_unit_s) -> chunks (jobs) -> batches.

* A **unit** is one span of audio the model sees at once. Neighbouring speech segments are
  merged while the unit stays within ``max_unit_s`` and the silence between them is at most
  ``max_gap_s``. Speech longer than ``max_unit_s`` is split at its quietest 100 ms.
* A **chunk** is consecutive units with about ``chunk_s`` of speech: one Snakemake job.
* A **batch** is units of similar length whose total audio stays within ``batch_s``.

Invariants (tested): every unit is at most ``max_unit_s`` long, units are sorted and
disjoint, their union covers every speech segment, and each unit is in exactly one chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firescribe.audio import SAMPLE_RATE

Span = tuple[float, float]


@dataclass(frozen=True)
class PlanParams:
    max_unit_s: float = 30.0
    max_gap_s: float = 1.0
    chunk_s: float = 600.0
    split_window_s: float = 0.1


def frame_energy(pcm: np.ndarray, hop_s: float = 0.01) -> np.ndarray:
    """Mean absolute amplitude per ``hop_s`` frame (int16 input, memmap friendly)."""
    hop = int(hop_s * SAMPLE_RATE)
    n = len(pcm) // hop
    out = np.empty(n, dtype=np.float32)
    step = 360_000  # frames per block: bounded memory on long files
    for a in range(0, n, step):
        b = min(n, a + step)
        block = np.abs(np.asarray(pcm[a * hop : b * hop], dtype=np.float32)).reshape(b - a, hop)
        out[a:b] = block.mean(axis=1)
    return out


def quietest(energy: np.ndarray, lo_s: float, hi_s: float, hop_s: float = 0.01, window_s: float = 0.1) -> float | None:
    """Middle of the quietest ``window_s`` window inside [lo_s, hi_s] of a ``frame_energy``
    track, or None where the interval holds no whole window."""
    w = max(1, int(round(window_s / hop_s)))
    a, b = max(0, int(lo_s / hop_s)), min(len(energy), int(hi_s / hop_s))
    if b - a < w:
        return None
    smooth = np.convolve(energy[a:b], np.ones(w) / w, mode="valid")
    i = j = int(np.argmin(smooth))
    while j + 1 < len(smooth) and smooth[j + 1] <= smooth[i] + 1e-3:
        j += 1  # a flat minimum (digital silence): take its middle
    return (a + (i + j) / 2 + w / 2) * hop_s


def split_long(span: Span, max_unit_s: float, energy: np.ndarray | None, hop_s: float = 0.01, window_s: float = 0.1) -> list[Span]:
    """Split ``span`` into pieces <= ``max_unit_s``, each cut at the quietest window found in
    the second half of the allowed length (so pieces stay reasonably long)."""
    start, end = span
    pieces: list[Span] = []
    while end - start > max_unit_s:
        lo, hi = start + max_unit_s / 2, start + max_unit_s
        found = quietest(energy, lo, hi, hop_s, window_s) if energy is not None else None
        cut = min(max(found, lo), hi) if found is not None else hi
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def make_units(segments: list[Span], params: PlanParams, energy: np.ndarray | None = None) -> list[Span]:
    """Merge/split sorted speech segments into ASR units (see module doc)."""
    pieces: list[Span] = []
    for seg in sorted(segments):
        if pieces and seg[0] < pieces[-1][1]:  # overlapping VAD padding: continue the previous span
            seg = (pieces[-1][1], seg[1])
            if seg[1] <= seg[0]:
                continue
        pieces.extend(split_long(seg, params.max_unit_s, energy, window_s=params.split_window_s))
    units: list[Span] = []
    for a, b in pieces:
        if units and a - units[-1][1] <= params.max_gap_s and b - units[-1][0] <= params.max_unit_s:
            units[-1] = (units[-1][0], b)
        else:
            units.append((a, b))
    return [(round(a, 3), round(b, 3)) for a, b in units]


def make_chunks(units: list[Span], chunk_s: float) -> list[list[int]]:
    """Group consecutive unit indices into chunks of about ``chunk_s`` seconds of speech."""
    chunks: list[list[int]] = []
    acc = chunk_s
    for i, (a, b) in enumerate(units):
        if acc >= chunk_s:
            chunks.append([])
            acc = 0.0
        chunks[-1].append(i)
        acc += b - a
    return chunks


def make_batches(durations: list[float], batch_s: float, max_batch: int = 64) -> list[list[int]]:
    """Length-sorted batches: indices of units whose padded audio (n x longest) fits ``batch_s``."""
    order = sorted(range(len(durations)), key=lambda i: (-durations[i], i))
    batches: list[list[int]] = []
    for i in order:
        if batches:
            cur = batches[-1]
            longest = durations[cur[0]]
            if (len(cur) + 1) * longest <= batch_s and len(cur) < max_batch:
                cur.append(i)
                continue
        batches.append([i])
    return batches


def padding_fraction(durations: list[float], batches: list[list[int]]) -> float:
    """Share of computed audio that is padding, for the given batches."""
    padded = sum(len(b) * max(durations[i] for i in b) for b in batches)
    real = sum(durations)
    return 0.0 if padded == 0 else 1.0 - real / padded


def run_plan(wav: str, segments_tsv: str, out_json: str, max_unit_s: float, max_gap_s: float, chunk_s: float) -> dict:
    """Plan one file and write ``{"units": [[start, end], ...], "chunks": [[unit ids], ...]}``."""
    import logging

    from firescribe.audio import open_pcm
    from firescribe.io import write_json
    from firescribe.vad import read_segments

    segments = read_segments(segments_tsv)
    params = PlanParams(max_unit_s=max_unit_s, max_gap_s=max_gap_s, chunk_s=chunk_s)
    needs_split = any(b - a > max_unit_s for a, b in segments)
    energy = frame_energy(open_pcm(wav)) if needs_split else None
    units = make_units(segments, params, energy)
    plan = {"units": [list(u) for u in units], "chunks": make_chunks(units, chunk_s)}
    write_json(out_json, plan)
    logging.getLogger(__name__).info("plan %s: %d segments -> %d units -> %d chunks", wav, len(segments), len(units), len(plan["chunks"]))
    return plan
