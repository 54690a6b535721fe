"""Merge a file's chunk results into transcripts: JSON, TXT, SRT, VTT, TSV.

Times are on the original media's timeline. Subtitle cues are cut from word timestamps
when the backend gives them (at pauses, sentence ends, or length limits); otherwise one
cue per segment. Outputs hold no run-specific data (time, host), so the same input and
config give byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pysubs2

from firescribe import __version__
from firescribe.io import dumps_json, read_json, write_text

SENTENCE_END = (".", "?", "!", "。", "？", "！")
CJK = ("\u3400", "\u9fff")


@dataclass(frozen=True)
class CueParams:
    max_cue_s: float = 7.0
    max_cue_chars: int = 84
    cue_gap_s: float = 0.6


def _join(words: list[dict]) -> str:
    # whisper words carry their leading space; FireRedASR tokens of CJK carry none
    return "".join(w["text"] for w in words).strip()


def pause_breaks(speech: list[tuple[float, float]]) -> list[float]:
    """Midpoints of the silences between VAD speech segments: natural cue boundaries."""
    return [(a[1] + b[0]) / 2 for a, b in zip(speech, speech[1:]) if b[0] > a[1]]


def _widest_gap(words: list[dict]) -> int:
    """Index i (>= 1) of the word after the longest pause inside ``words``."""
    return max(range(1, len(words)), key=lambda i: (words[i]["start"] - words[i - 1]["end"], i))


def words_to_cues(words: list[dict], p: CueParams, breaks: list[float] = ()) -> list[dict]:
    """Cut a word sequence into cues at pauses (VAD silences or word gaps) and sentence ends;
    a cue that grows past the length limits is split at its longest inner pause."""
    cues: list[list[dict]] = []
    for w in words:
        if cues:
            cur = cues[-1]
            prev = cur[-1]
            gap = w["start"] - prev["end"]
            mid_prev, mid_w = (prev["start"] + prev["end"]) / 2, (w["start"] + w["end"]) / 2
            silence = any(mid_prev < b < mid_w for b in breaks)
            sentence_done = prev["text"].strip().endswith(SENTENCE_END)
            if not (silence or gap >= p.cue_gap_s or sentence_done):
                cur.append(w)
                if len(cur) > 1 and (cur[-1]["end"] - cur[0]["start"] > p.max_cue_s or len(_join(cur)) > p.max_cue_chars):
                    i = _widest_gap(cur)
                    cues[-1], rest = cur[:i], cur[i:]
                    cues.append(rest)
                continue
        cues.append([w])
    return [{"start": c[0]["start"], "end": c[-1]["end"], "text": _join(c), "words": c} for c in cues]


def build_cues(segments: list[dict], p: CueParams, breaks: list[float] = ()) -> list[dict]:
    cues = []
    for s in segments:
        if s.get("words"):
            cues.extend(words_to_cues(s["words"], p, breaks))
        elif s["text"].strip():
            cues.append({"start": s["start"], "end": s["end"], "text": s["text"].strip(), "words": []})
    return [c for c in cues if c["text"]]


def plain_text(cues: list[dict]) -> str:
    parts: list[str] = []
    for c in cues:
        t = c["text"]
        if parts and not (t[:1] >= CJK[0] and t[:1] <= CJK[1]):
            parts.append(" ")
        parts.append(t)
    return "".join(parts).strip()


def merge_transcript(
    sample: str, info: dict, plan: dict, chunk_docs: list[dict], params: dict, p: CueParams, speech: list[tuple[float, float]] = ()
) -> dict:
    segments = [s for doc in chunk_docs for u in doc["units"] for s in u["segments"]]
    segments.sort(key=lambda s: (s["start"], s["end"]))
    cues = build_cues(segments, p, pause_breaks(list(speech)))
    status, reason = info["status"], info.get("reason", "")
    if status == "ok" and not cues:
        status, reason = "empty", "no speech found" if not plan["units"] else "no words recognised"
    engine = chunk_docs[0]["engine"] if chunk_docs else None
    return {
        "sample": sample,
        "source": info["source"],
        "status": status,
        "reason": reason,
        "warnings": info.get("warnings", []),
        "duration": info["duration"],
        "speech_seconds": round(sum(b - a for a, b in plan["units"]), 3),
        "n_units": len(plan["units"]),
        "firescribe_version": __version__,
        "engine": engine,
        "params": params,
        "text": plain_text(cues),
        "segments": [
            {
                "start": c["start"],
                "end": c["end"],
                "text": c["text"],
                "words": [{"start": w["start"], "end": w["end"], "text": w["text"].strip(), "confidence": w.get("confidence")} for w in c["words"]],
            }
            for c in cues
        ],
    }


def subtitles(doc: dict, fmt: str) -> str:
    subs = pysubs2.SSAFile()
    for s in doc["segments"]:
        subs.append(pysubs2.SSAEvent(start=int(round(s["start"] * 1000)), end=int(round(s["end"] * 1000)), text=s["text"]))
    return subs.to_string(fmt)


def segments_tsv(doc: dict) -> str:
    df = pd.DataFrame([{"start": f"{s['start']:.3f}", "end": f"{s['end']:.3f}", "text": s["text"]} for s in doc["segments"]], columns=["start", "end", "text"])
    return df.to_csv(sep="\t", index=False, lineterminator="\n")


def write_outputs(doc: dict, out: dict[str, str]) -> None:
    """``out`` maps format (json, txt, srt, vtt, tsv) to a path; each written atomically."""
    text = doc["text"]
    contents = {
        "json": dumps_json(doc),
        "txt": text + "\n" if text else "",
        "srt": subtitles(doc, "srt") if doc["segments"] else "",
        "vtt": subtitles(doc, "vtt") if doc["segments"] else "WEBVTT\n",
        "tsv": segments_tsv(doc),
    }
    for fmt, path in out.items():
        write_text(path, contents[fmt])


def run_merge(
    sample: str, info_json: str, plan_json: str, vad_tsv: str, chunk_jsons: list[str], params: dict, cue: CueParams, out: dict[str, str]
) -> dict:
    from firescribe.vad import read_segments

    chunks = sorted((read_json(p) for p in chunk_jsons), key=lambda d: d["chunk"])
    doc = merge_transcript(sample, read_json(info_json), read_json(plan_json), chunks, params, cue, read_segments(vad_tsv))
    write_outputs(doc, out)
    return doc

