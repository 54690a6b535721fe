"""The merge step: a file's chunk results into its transcript document (JSON) and the files
made from it (TXT, SRT, VTT, TSV), and the shard's merge record; where the workflow keeps
them is firescribe.plumbing.outputs.

Times are on the original media's timeline. Subtitle cues are laid out by
``firescribe.text.cues`` (cut from word timestamps when the backend gives them, at pauses,
sentence ends, or length limits; otherwise one cue per segment). Outputs hold no
run-specific data (time, host), so the same input and config give byte-identical files.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass

import pysubs2

from firescribe import __version__
from firescribe.plumbing.io import dumps_json, read_json, write_text
from firescribe.plumbing.loudness import Loudness
from firescribe.plumbing.segments import read_events, read_segments
from firescribe.steps.extract import SPEECH_S, STATUS_EMPTY, STATUS_OK
from firescribe.text import plain_text
from firescribe.text.chinese import ChineseParams, convert_doc
from firescribe.text.cues import CueParams, build_cues, wrap
from firescribe.text.guard import GuardParams, ReadableParams, event_over, event_record, file_scripts, hold_back, language_scripts, unit_text
from firescribe.text.punctuation import FireRedPunc, PunctuationParams, punctuate_segments

log = logging.getLogger(__name__)


def held_back_units(
    units: list[dict], language: str | None, events: list[dict], g: GuardParams, p: ReadableParams
) -> tuple[dict[int, str], list[tuple[float, float]]]:
    """Which of a file's chunk ``units`` a viewer cannot read (``firescribe.text.guard.hold_back``):
    index -> reason; and the spans of the units kept as lyrics (confident text over singing).
    The language's scripts: ``language``'s, else the file's own most used script's."""
    if not p.enabled:
        return {}, []
    scripts = language_scripts(language) or file_scripts([unit_text(u["segments"]) for u in units])
    held, lyrics = {}, []
    for i, u in enumerate(units):
        span = (u["spans"][0][0], u["spans"][-1][1])
        event = event_over(span, events)
        reason = hold_back(u["segments"], u["spans"], u.get("guard"), scripts, event, g, p)
        if reason is not None:
            held[i] = reason
        elif event == "singing" and u["segments"]:
            lyrics.append(span)
    return held, lyrics


def marker_cue(start: float, end: float, reason: str, p: ReadableParams) -> list[dict]:
    """The cue shown where a unit is held back (none if the marker is empty)."""
    return [{"start": start, "end": end, "text": p.marker, "words": [], "held_back": reason}] if p.marker else []


def audio_used(info: dict) -> dict:
    """What extraction took from the file (firescribe.steps.extract.ExtractInfo): its audio tracks,
    the one transcribed, its one channel (None: the downmix), where it starts on the media's
    timeline, its channels transcribed apart (None: not)."""
    return {k: info.get(k, d) for k, d in (("tracks", []), ("track", None), ("channel", None), ("offset", 0.0), ("apart", None))}


def on_channel(apart: dict, start: float, end: float) -> tuple[int, float, float]:
    """A span of a WAV of channels or tracks one after the other (firescribe.steps.extract.apart_channels,
    apart_tracks): which one (1 = the first), and its times on it, the media's timeline."""
    count = apart["channels"] if "channels" in apart else len(apart["tracks"])
    k = min(count - 1, max(0, int(start // apart["stride"])))
    shift = k * apart["stride"]
    return k + 1, round(start - shift, 3), round(end - shift, 3)


def channel_cues(cues: list[dict], apart: dict) -> list[dict]:
    """Cues of channels (or tracks) transcribed apart, each on the media's timeline, with its
    ``channel`` (1 = the first; for tracks, the place in ``apart["tracks"]``) and, for
    channels, the text labelled ``[1] ...``; all in order of time."""
    out = []
    for c in cues:
        k, start, end = on_channel(apart, c["start"], c["end"])
        shift = c["start"] - start
        words = [{**w, "start": round(w["start"] - shift, 3), "end": round(w["end"] - shift, 3)} for w in c["words"]]
        text = f"[{k}] {c['text']}" if "channels" in apart else c["text"]
        out.append({**c, "start": start, "end": end, "text": text, "words": words, "channel": k})
    return sorted(out, key=lambda c: (c["start"], c["channel"]))


def track_outputs(out: dict[str, str], track: int) -> dict[str, str]:
    """The transcript paths of one track of a file transcribed track by track:
    ``<sample>.track<n>.<format>``."""
    return {fmt: path[: -len(fmt) - 1] + f".track{track}.{fmt}" for fmt, path in out.items()}


def other_speech(info: dict) -> str:
    """For a file found empty: the other audio tracks that carry speech, if any."""
    others = [t for t in info.get("tracks", []) if t["index"] != info.get("track") and (t.get("speech_s") or 0) >= SPEECH_S]
    return "".join(f"; audio track {t['index']} carries speech ({t['speech_s']:.1f} s): audio.track: {t['index']} transcribes it" for t in others)


def merge_transcript(
    sample: str,
    info: dict,
    n_units: int,
    units: list[dict],
    engine: dict | None,
    params: dict,
    p: CueParams,
    speech: list[tuple[float, float]] = (),
    loudness: Loudness | None = None,
    punctuate: Callable[[list[dict]], list[dict]] | None = None,
    heard: dict[str, list[dict]] | None = None,
    readable: ReadableParams | None = None,
    language: str | None = None,
    track: int | None = None,
) -> dict:
    """The transcript document of one file from its ``units`` in the ASR chunk documents (of
    its ``n_units`` planned); ``punctuate`` (firescribe.text.punctuation) adds punctuation to the
    segments before cues are cut, so cues end at sentence ends. ``heard``: what FireRedVAD's
    event model heard (``firescribe.plumbing.segments.read_events``): its singing and music spans, and the
    speech segments it heard as only those (not transcribed: the guard's record says so).
    ``readable`` (the guard's, with ``params["asr"]["guard"]``): units a viewer cannot read
    in the file's ``language`` become marker cues; text kept over singing is lyrics.
    A file transcribed track by track (``info["apart"]["tracks"]``): the document of audio
    track ``track`` (None: the one extraction chose, ``info["track"]``)."""
    units = sorted(units, key=lambda u: u["spans"][0][0])
    events = heard["events"] if heard is not None else []
    held, lyrics = held_back_units(units, language, events, GuardParams(**params["asr"]["guard"]), readable) if readable is not None else ({}, [])
    segments = [s for i, u in enumerate(units) if i not in held for s in u["segments"]]
    segments.sort(key=lambda s: (s["start"], s["end"]))
    if punctuate is not None:
        segments = punctuate(segments)
    cues = build_cues(segments, p, speech, loudness)
    for c in cues:
        if any(a <= (c["start"] + c["end"]) / 2 <= b for a, b in lyrics):
            c["lyrics"] = True
    guarded = []
    for i, u in enumerate(units):
        a, b = u["spans"][0][0], u["spans"][-1][1]
        if i in held:
            record = u.get("guard") or {"tripped": [held[i]], "tripped_after": [held[i]], "actions": []}
            guarded.append({"start": a, "end": b, **record, "actions": [*record["actions"], "held_back"], "held_back": held[i]})
            cues += marker_cue(a, b, held[i], readable)
        elif "guard" in u:
            guarded.append({"start": a, "end": b, **u["guard"]})
    if heard is not None:
        marks = readable is not None and readable.enabled
        for h in heard["untranscribed"]:
            guarded.append({"start": h["start"], "end": h["end"], **event_record(h["event"]), **({"held_back": h["event"]} if marks else {})})
            if marks:
                cues += marker_cue(h["start"], h["end"], h["event"], readable)
    guarded.sort(key=lambda g: g["start"])
    cues.sort(key=lambda c: (c["start"], c["end"]))
    apart = info.get("apart")
    if apart:
        cues = channel_cues(cues, apart)
    if apart and "tracks" in apart:  # this track's cues alone
        track = info["track"] if track is None else track
        place = apart["tracks"].index(track) + 1
        cues = [{k: v for k, v in c.items() if k != "channel"} for c in cues if c["channel"] == place]
        info = {**info, "track": track}
        speech = [(a, b) for a, b in speech if on_channel(apart, a, b)[0] == place]
    if apart:  # on the media's timeline too (a track's own alone)
        spans = [on_channel(apart, g["start"], g["end"]) for g in guarded]
        guarded = [{**g, "start": a, "end": b} for g, (k, a, b) in zip(guarded, spans) if "tracks" not in apart or k == place]
        guarded.sort(key=lambda g: g["start"])
    # whether speech was planned (for a track of several: whether the VAD found any in it)
    planned = bool(speech) if apart and "tracks" in apart else bool(n_units)
    status, reason = info["status"], info.get("reason", "")
    if status == STATUS_OK and not any("held_back" not in c for c in cues):
        status = STATUS_EMPTY
        reasons = {g["held_back"] for g in guarded if "held_back" in g}
        if reasons:
            reason = "music/singing only" if reasons <= {"music", "singing"} else "only text the guard held back (" + ", ".join(sorted(reasons)) + ")"
        else:
            reason = "no words recognised" if planned else "no speech found"
            reason += "" if apart and "tracks" in apart else other_speech(info)  # (all are transcribed)
    return {
        "sample": sample,
        "source": info["source"],
        "status": status,
        "reason": reason,
        "warnings": info.get("warnings", []),
        "duration": info["duration"],
        "audio": audio_used(info),
        "speech_seconds": round(sum(b - a for a, b in speech), 3),  # as VAD found it
        "n_units": n_units,
        "firescribe_version": __version__,
        "engine": engine,
        "params": params,
        "text": plain_text(cues),
        "guarded_units": guarded,  # units the guard tripped on: what tripped and what it did
        **({"events": heard["events"]} if heard is not None else {}),  # FireRedVAD's singing and music
        "segments": [
            {
                "start": c["start"],
                "end": c["end"],
                "text": c["text"],
                **({"held_back": c["held_back"]} if "held_back" in c else {}),  # a marker: the unit's text held back
                **({"lyrics": True} if c.get("lyrics") else {}),  # sung: ♪ text ♪ in SRT and VTT
                **({"channel": c["channel"]} if "channel" in c else {}),
                "words": [{"start": w["start"], "end": w["end"], "text": w["text"].strip(), "confidence": w.get("confidence")} for w in c["words"]],
            }
            for c in cues
        ],
    }


def subtitles(doc: dict, fmt: str, cue: CueParams) -> str:
    """SRT or VTT of the transcript's cues, each broken into lines (``wrap``)."""
    subs = pysubs2.SSAFile()
    for s in doc["segments"]:
        lines = wrap(s["text"], cue)
        if s.get("lyrics"):  # the subtitle convention for sung words
            lines = [f"♪ {line} ♪" for line in lines]
        subs.append(pysubs2.SSAEvent(start=int(round(s["start"] * 1000)), end=int(round(s["end"] * 1000)), text=r"\N".join(lines)))
    return subs.to_string(fmt)


def segments_tsv(doc: dict) -> str:
    """start, end, text per cue; quoted as pandas' ``to_csv`` quotes (it writes with ``csv`` too),
    without importing pandas in every merge job."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(["start", "end", "text"])
    writer.writerows([f"{s['start']:.3f}", f"{s['end']:.3f}", s["text"]] for s in doc["segments"])
    return out.getvalue()


def write_outputs(doc: dict, out: dict[str, str], cue: CueParams) -> None:
    """``out`` maps format (``firescribe.plumbing.outputs.FORMATS``) to a path; each written atomically."""
    text = doc["text"]
    contents = {
        "json": dumps_json(doc),
        "txt": text + "\n" if text else "",
        "srt": subtitles(doc, "srt", cue) if doc["segments"] else "",
        "vtt": subtitles(doc, "vtt", cue) if doc["segments"] else "WEBVTT\n",
        "tsv": segments_tsv(doc),
    }
    for fmt, path in out.items():
        write_text(path, contents[fmt])


@dataclass(frozen=True)
class FileInputs:
    """What the merge step reads and writes for one file of a shard."""

    info: str  # extraction's JSON
    wav: str
    source: str  # the media path the transcript records (as the user gave it)
    out: dict[str, str]  # format (``FORMATS``) -> path


def run_merge(
    files: dict[str, FileInputs],
    plan_json: str,
    segments_tsv: str,
    chunk_jsons: list[str],
    params: dict,
    cue: CueParams,
    punctuation: PunctuationParams | None = None,
    readable: ReadableParams | None = None,
    language: str | None = None,
) -> dict[str, dict]:
    """Merge each file of a shard from the shard's ASR chunks; with ``punctuation`` (its
    ``model_dir`` set), FireRedPunc (loaded once) punctuates them; ``readable``: the units a
    viewer cannot read in the shard's ``language`` become markers (``merge_transcript``)."""
    plan = read_json(plan_json)
    speech = read_segments(segments_tsv)
    # FireRedVAD's event model: what it heard, for every file (nothing heard: empty lists)
    heard = read_events(segments_tsv) if params["vad"].get("events") else None
    chunks = sorted((read_json(p) for p in chunk_jsons), key=lambda d: d["chunk"])
    units: dict[str, list[dict]] = {sample: [] for sample in files}
    engines: dict[str, dict] = {}  # the engine of the first chunk that has units of the file
    for doc in chunks:
        for u in doc["units"]:
            units[u["sample"]].append(u)
            engines.setdefault(u["sample"], doc["engine"])
    punctuate = None
    if punctuation is not None and punctuation.applies_to(params["asr"]["backend"]) and any(u["segments"] for d in chunks for u in d["units"]):
        model = FireRedPunc(punctuation.model_dir, punctuation.precision)
        punctuate = lambda segments: punctuate_segments(model, segments, punctuation)  # noqa: E731
    docs = {}
    for i, (sample, f) in enumerate(files.items(), 1):
        info = {**read_json(f.info), "source": f.source}
        n_units = len(plan["samples"][sample]["units"])
        sample_heard = None if heard is None else heard.get(sample, {"untranscribed": [], "events": []})
        doc = merge_transcript(sample, info, n_units, units[sample], engines.get(sample), params, cue, speech.get(sample, []), Loudness.of_wav(f.wav), punctuate, sample_heard, readable, language)
        chinese = ChineseParams.from_params(params["chinese"]) if "chinese" in params else None
        doc = convert_doc(doc, chinese)  # script, numbers
        write_outputs(doc, f.out, cue)
        for track in (info.get("apart") or {}).get("tracks", []):  # audio.track: all
            args = (sample, info, n_units, units[sample], engines.get(sample), params, cue, speech.get(sample, []), Loudness.of_wav(f.wav), punctuate, sample_heard, readable, language)
            write_outputs(convert_doc(merge_transcript(*args, track=track), chinese), track_outputs(f.out, track), cue)
        docs[sample] = doc
        log.info("merge %d/%d: %s %s, %d cues", i, len(files), sample, doc["status"], len(doc["segments"]))
    return docs


def write_merged(path: str, docs: dict[str, dict]) -> None:
    """The merge step's record of a shard: sample, status and reason of each file."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(["sample", "status", "reason"])
    writer.writerows([sample, doc["status"], doc["reason"]] for sample, doc in docs.items())
    write_text(path, out.getvalue())
