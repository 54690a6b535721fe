"""A shard's speech segments, between the VAD step and the steps after it: the TSV the VAD
step (``firescribe.steps.vad``) writes, whichever VAD found them, and the plan, merge and report
steps read."""

from __future__ import annotations

from collections.abc import Iterator

from firescribe.plumbing.io import write_text

# a shard's TSV: sample, start, end per speech segment; FireRedVAD's adds a fourth column,
# the segment's label (speech, or an event heard instead of speech: not transcribed) or, for
# the event model's spans, EVENT_PREFIX + the event
EVENT_PREFIX = "event:"


def write_segments(path: str, segments: dict[str, list[tuple]], events: dict[str, list[tuple]], labels: bool) -> None:
    """One TSV for a shard: sample, start, end per segment (start, end, label); with
    ``labels`` (FireRedVAD's), each segment's label, then the event spans (start, end, event);
    without (silero's: every segment is speech), neither."""
    if not labels:
        lines = ["sample\tstart\tend"] + [f"{sample}\t{a:.3f}\t{b:.3f}" for sample, segs in segments.items() for a, b, _ in segs]
    else:
        lines = ["sample\tstart\tend\tlabel"]
        for sample, segs in segments.items():
            lines += [f"{sample}\t{a:.3f}\t{b:.3f}\t{label}" for a, b, label in segs]
            lines += [f"{sample}\t{a:.3f}\t{b:.3f}\t{EVENT_PREFIX}{event}" for a, b, event in events.get(sample, [])]
    write_text(path, "\n".join(lines) + "\n")


def read_rows(path: str) -> Iterator[tuple[str, float, float, str]]:
    """(sample, start, end, label) of each row; a row of silero's TSV is speech."""
    with open(path, encoding="utf-8") as f:
        for line in f.readlines()[1:]:
            if line.strip():
                sample, a, b, *label = line.rstrip("\n").split("\t")
                yield sample, float(a), float(b), label[0] if label else "speech"


def read_segments(path: str) -> dict[str, list[tuple[float, float]]]:
    """Sample -> its speech segments to transcribe, from a shard's TSV (a file without
    speech has none)."""
    out: dict[str, list[tuple[float, float]]] = {}
    for sample, a, b, label in read_rows(path):
        if label == "speech":
            out.setdefault(sample, []).append((a, b))
    return out


def read_events(path: str) -> dict[str, dict[str, list[dict]]]:
    """Sample -> ``{"untranscribed": [...], "events": [...]}`` from FireRedVAD's TSV: the
    segments heard as singing or music instead of speech, and the event model's spans,
    each ``{"start", "end", "event"}``; nothing for silero's."""
    out: dict[str, dict[str, list[dict]]] = {}
    for sample, a, b, label in read_rows(path):
        if label == "speech":
            continue
        kind = "events" if label.startswith(EVENT_PREFIX) else "untranscribed"
        entry = out.setdefault(sample, {"untranscribed": [], "events": []})
        entry[kind].append({"start": a, "end": b, "event": label.removeprefix(EVENT_PREFIX)})
    return out

