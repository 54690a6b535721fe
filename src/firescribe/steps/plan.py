"""Plan ASR work: VAD segments -> units (<= max_unit_s) -> chunks (jobs) -> batches.

* A **unit** is the audio the model sees at once: a list of media spans, heard in order.
  - Contiguous (default for FireRedASR-AED): one span. Neighbouring speech segments are
    merged while the unit stays within ``max_unit_s`` and the silence between them is at
    most ``max_gap_s``.
  - Stitched (``stitch``, default for whisper): only speech. Each segment keeps
    ``stitch_pad_s`` more audio on both sides, the rest of each pause is cut out, and
    consecutive spans fill a unit up to ``max_unit_s`` of audio, as faster-whisper's batched
    pipeline does. ``Stitching`` maps times in the unit's audio back to the media.
  Speech longer than ``max_unit_s`` is split at its quietest 100 ms.
* An **input** is what the model hears at once: one unit, or (``pack_files``) consecutive
  units of several short files of a shard joined, up to ``max_unit_s`` of audio, so that a
  whisper window of 30 s is filled with speech of several 5 s files instead of padding.
* A **chunk** is consecutive inputs with about ``chunk_s`` of audio: one Snakemake job.
* A **batch** is inputs of similar length whose total audio stays within ``batch_s``.

A plan covers a shard (firescribe.plumbing.shards): one file, or many short ones. Invariants
(tested): every input is at most ``max_unit_s`` of audio, a file's spans are sorted and
disjoint across its units, their union covers every speech segment, each unit is in exactly
one input and each input in exactly one chunk.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
from dataclasses import dataclass

import numpy as np

from firescribe.plumbing.io import write_json
from firescribe.plumbing.loudness import frame_energy, quietest
from firescribe.plumbing.pcm import SAMPLE_RATE, open_pcm
from firescribe.plumbing.segments import read_segments

log = logging.getLogger(__name__)

Span = tuple[float, float]
# silence put between the units of different files that share a model input: a pause the
# model hears as the end of one utterance, and room for the word times it stretches over it
FILE_GAP_S = 1.0
Unit = list[Span]  # media spans whose audio, joined in order, the model hears


@dataclass(frozen=True)
class PlanParams:
    """How a file's speech becomes units and chunks (firescribe.settings resolves the config's
    ``plan`` section against the backend's facts)."""

    max_unit_s: float
    max_gap_s: float  # contiguous units: longest pause merged into one
    chunk_s: float
    stitch: bool  # units of speech only
    stitch_pad_s: float  # stitched units: audio kept on each side beyond the VAD's padding
    cue_units: bool | None  # cue-sized units; None: where the model gives no word times
    max_cue_s: float  # their length limit (subtitles.max_cue_s)
    # several files' units in one input, where the model gives word times (needed to give
    # each file its words back)
    pack_files: bool

    def for_model(self, word_times: bool) -> PlanParams:
        """The params a model with or without ``word_times`` gets: cue-sized units where
        ``cue_units`` asks for them (None: exactly where it has no word times, as
        FireRedASR-AED v1, whose subtitle cues can only be whole units). Each such unit ends
        at a VAD pause (none merged across one) and lasts at most ``max_cue_s`` (longer
        pause-free speech is cut at its quietest point); contiguous audio."""
        cue_sized = not word_times if self.cue_units is None else self.cue_units
        params = self
        if cue_sized:
            params = dataclasses.replace(self, max_unit_s=min(self.max_unit_s, self.max_cue_s), max_gap_s=0.0, stitch=False, stitch_pad_s=0.0)
        return dataclasses.replace(params, pack_files=params.pack_files and word_times)


def unit_seconds(unit: Unit) -> float:
    """Seconds of audio the model hears for ``unit``."""
    return sum(b - a for a, b in unit)


def plan_units(plan: dict, sample: str) -> list[Unit]:
    """The units of ``sample`` in a shard's plan document, as lists of (start, end) spans."""
    return [[(float(a), float(b)) for a, b in unit] for unit in plan["samples"][sample]["units"]]


class Stitching:
    """Times in a unit's audio -> times on the media timeline.

    The unit's audio is its spans joined in order; span ``k`` starts at ``offsets[k]``
    in it. A time on a splice belongs to the span after it when it starts something (a word
    or segment) and to the span before it when it ends something."""

    def __init__(self, unit: Unit):
        self.unit = unit
        self.offsets = np.cumsum([0.0] + [b - a for a, b in unit[:-1]]).tolist()

    def to_media(self, t: float, is_end: bool = False) -> float:
        find = bisect.bisect_left if is_end else bisect.bisect_right
        k = min(max(find(self.offsets, t) - 1, 0), len(self.unit) - 1)
        a, b = self.unit[k]
        return round(min(max(a + t - self.offsets[k], a), b), 3)

    def span_to_media(self, start: float, end: float) -> tuple[float, float]:
        """A (start, end) pair in the unit's audio on the media timeline (end >= start)."""
        a = self.to_media(start)
        return a, max(a, self.to_media(end, is_end=True))


def split_long(span: Span, max_unit_s: float, energy: np.ndarray | None) -> list[Span]:
    """Split ``span`` into pieces <= ``max_unit_s``, each cut at the quietest window found in
    the second half of the allowed length (so pieces stay reasonably long)."""
    start, end = span
    pieces: list[Span] = []
    while end - start > max_unit_s:
        lo, hi = start + max_unit_s / 2, start + max_unit_s
        found = quietest(energy, lo, hi) if energy is not None else None
        cut = min(max(found, lo), hi) if found is not None else hi
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def make_units(segments: list[Span], params: PlanParams, energy: np.ndarray | None = None, duration: float = float("inf")) -> list[Unit]:
    """Merge/split sorted speech segments into ASR units (see module doc); ``duration``
    (of the media) bounds the stitching pads."""
    pieces: list[Span] = []
    for seg in sorted(segments):
        if params.stitch:
            seg = (max(0.0, seg[0] - params.stitch_pad_s), min(duration, seg[1] + params.stitch_pad_s))
        if pieces and seg[0] < pieces[-1][1]:  # overlapping padding: continue the previous span
            seg = (pieces[-1][1], seg[1])
            if seg[1] <= seg[0]:
                continue
        pieces.extend((round(a, 3), round(b, 3)) for a, b in split_long(seg, params.max_unit_s, energy))
    units: list[Unit] = []
    for a, b in pieces:
        if not units:
            units.append([(a, b)])
        elif params.stitch and unit_seconds(units[-1]) + (b - a) <= params.max_unit_s:
            last = units[-1][-1]
            if a <= last[1]:  # touching spans join
                units[-1][-1] = (last[0], b)
            else:
                units[-1].append((a, b))
        elif not params.stitch and a - units[-1][-1][1] <= params.max_gap_s and b - units[-1][0][0] <= params.max_unit_s:
            units[-1] = [(units[-1][0][0], b)]
        else:
            units.append([(a, b)])
    return units


def pack_inputs(seconds: list[float], max_unit_s: float, pack: bool) -> list[list[int]]:
    """Group consecutive unit indices into model inputs (``seconds``: audio per unit): each
    unit alone, or with ``pack`` as many consecutive units as fit in ``max_unit_s`` with
    FILE_GAP_S of silence between them."""
    inputs: list[list[int]] = []
    acc = 0.0
    for i, s in enumerate(seconds):
        if pack and inputs and acc + FILE_GAP_S + s <= max_unit_s:
            inputs[-1].append(i)
            acc += FILE_GAP_S + s
        else:
            inputs.append([i])
            acc = s
    return inputs


def make_chunks(seconds: list[float], chunk_s: float) -> list[list[int]]:
    """Group consecutive unit indices into chunks of about ``chunk_s`` seconds of audio
    (``seconds``: audio per unit)."""
    chunks: list[list[int]] = []
    acc = chunk_s
    for i, s in enumerate(seconds):
        if acc >= chunk_s:
            chunks.append([])
            acc = 0.0
        chunks[-1].append(i)
        acc += s
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


def plan_audio(pcm: np.ndarray, segments: list[Span], params: PlanParams) -> list[Unit]:
    """Units for the speech ``segments`` of ``pcm`` (int16, 16 kHz, may be a memmap); the
    loudness track is read only where speech must be split."""
    pad = params.stitch_pad_s if params.stitch else 0.0
    needs_split = any(b - a + 2 * pad > params.max_unit_s for a, b in segments)
    return make_units(segments, params, frame_energy(pcm) if needs_split else None, duration=len(pcm) / SAMPLE_RATE)


def input_spans(plan: dict, members: list[list]) -> list[tuple[str, float, float]]:
    """The (sample, start, end) spans an input hears, in order; ``members``: its
    [sample, unit index] pairs."""
    return [(sample, a, b) for sample, k in members for a, b in plan["samples"][sample]["units"][k]]


def input_seconds(plan: dict, members: list[list]) -> float:
    """Seconds of media audio an input holds (the gaps between its files not counted)."""
    return sum(b - a for _, a, b in input_spans(plan, members))


def file_plan(sample: str, units: list[Unit], chunk_s: float) -> dict:
    """The plan of a shard of one file with these ``units`` (one input each)."""
    plan = {"samples": {sample: {"units": [[list(span) for span in u] for u in units]}}, "inputs": [[[sample, k]] for k in range(len(units))]}
    plan["chunks"] = make_chunks([unit_seconds(u) for u in units], chunk_s)
    return plan


def run_plan(wavs: dict[str, str], segments_tsv: str, out_json: str, params: PlanParams, word_times: bool) -> dict:
    """Plan one shard (``wavs``: sample -> WAV; its VAD segments TSV) for a model with or
    without ``word_times`` (``PlanParams.for_model``); write
    ``{"samples": {sample: {"units": [[[start, end], ...], ...]}}, "inputs": [[[sample, unit],
    ...], ...], "chunks": [[input ids], ...]}``."""
    params = params.for_model(word_times)
    plan: dict = {"samples": {}, "inputs": [], "chunks": []}
    units: list[list] = []  # [sample, unit index] in shard order
    n_segments = 0
    speech = read_segments(segments_tsv)
    for sample, wav in wavs.items():
        segments = speech.get(sample, [])
        n_segments += len(segments)
        file_units = plan_audio(open_pcm(wav), segments, params)
        plan["samples"][sample] = {"units": [[list(span) for span in u] for u in file_units]}
        units += [[sample, k] for k in range(len(file_units))]
    seconds = [input_seconds(plan, [u]) for u in units]
    plan["inputs"] = [[units[i] for i in group] for group in pack_inputs(seconds, params.max_unit_s, params.pack_files)]
    plan["chunks"] = make_chunks([input_seconds(plan, m) for m in plan["inputs"]], params.chunk_s)
    write_json(out_json, plan)
    log.info(
        "plan %s: %d files, %d segments -> %d units (%.1f s of audio, %s) -> %d inputs%s -> %d chunks",
        out_json,
        len(wavs),
        n_segments,
        len(units),
        sum(seconds),
        "speech stitched" if params.stitch else f"contiguous{', cue-sized' if params.max_gap_s == 0.0 and params.max_unit_s <= params.max_cue_s else ''}",
        len(plan["inputs"]),
        " (files packed)" if params.pack_files else "",
        len(plan["chunks"]),
    )
    return plan
