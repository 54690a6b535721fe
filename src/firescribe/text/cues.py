"""Subtitle cues: a file's timed words cut into cues (at pauses, sentence ends, or length
limits: ``words_to_cues``) and each cue's text broken into lines (``wrap``); for backends
without word times, one cue per segment (``build_cues``). The merge step (firescribe.steps.merge)
lays out each file's cues with this and writes them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from firescribe.plumbing.loudness import Loudness
from firescribe.text import CJK_RANGES, is_cjk

SENTENCE_END = (".", "?", "!", "。", "？", "！")


@dataclass(frozen=True)
class CueParams:
    """The config's ``subtitles`` section (defaults and sources: config/schemas, docs/configuration.md)."""

    max_cue_s: float
    line_chars: int  # Latin-script text
    cjk_line_chars: int  # Chinese (CJK) text
    max_lines: int
    cue_gap_s: float

    def is_cjk(self, text: str) -> bool:
        """Chinese text: more CJK characters than Latin-script words."""
        return sum(1 for c in text if is_cjk(c)) > len(LATIN_WORD.findall(text))

    def line_limit(self, text: str) -> int:
        return self.cjk_line_chars if self.is_cjk(text) else self.line_chars

    def width(self, text: str, cjk: bool) -> float:
        """Length of a line: in Chinese text, in full-width characters (ASCII counts half)."""
        return sum(0.5 if c.isascii() else 1.0 for c in text) if cjk else float(len(text))


LATIN_WORD = re.compile(r"[A-Za-z0-9']+")


# a piece a line may break after: one CJK character (with the marks after it), or a run of
# other characters up to and including the spaces after it (a Latin word is never broken)
LINE_PIECE = re.compile(f"[{CJK_RANGES}][^\\s\\w]*\\s*|[^{CJK_RANGES}\\s]+\\s*|\\s+")


def wrap(text: str, p: CueParams) -> list[str]:
    """``text`` as subtitle lines of at most the line limit (``CueParams.width``) where words
    allow; a line breaks between CJK characters or at a space, never inside a Latin word. Two
    lines are balanced (the break that makes the longer line shortest, the top line the shorter
    on a tie), as subtitle guidelines ask; more lines are filled greedily."""
    cjk = p.is_cjk(text)
    limit = p.line_limit(text)
    pieces = LINE_PIECE.findall(text)
    lines = [""]
    for piece in pieces:
        if lines[-1] and p.width((lines[-1] + piece).rstrip(), cjk) > limit:
            lines.append("")
        lines[-1] += piece
    lines = [line.strip() for line in lines if line.strip()]
    if len(lines) == 2:
        splits = [("".join(pieces[:i]).strip(), "".join(pieces[i:]).strip()) for i in range(1, len(pieces))]
        top, bottom = min(
            (pair for pair in splits if pair[0] and pair[1]),
            key=lambda pair: (max(p.width(pair[0], cjk), p.width(pair[1], cjk)), p.width(pair[0], cjk) > p.width(pair[1], cjk)),
        )
        lines = [top, bottom]
    return lines


def _join(words: list[dict]) -> str:
    # whisper words carry their leading space; FireRedASR tokens of CJK carry none
    return "".join(w["text"] for w in words).strip()


def pause_breaks(speech: list[tuple[float, float]]) -> list[float]:
    """Midpoints of the silences between VAD speech segments: natural cue boundaries."""
    return [(a[1] + b[0]) / 2 for a, b in zip(speech, speech[1:]) if b[0] > a[1]]


# a frame below this fraction of the cue's median loudness (-20 dB) counts as pause
PAUSE_LEVEL = 0.1


def _mid(w: dict) -> float:
    return (w["start"] + w["end"]) / 2


def split_index(words: list[dict], loudness: Loudness | None = None) -> int:
    """Index i (>= 1) of the word after the best place to cut ``words`` in two: the word
    boundary with the most pause in the audio around it (between the middles of the two
    words), then the longest gap between the words' timestamps. Decoders stretch word
    timestamps over short pauses, so only the audio shows a pause between sentences."""

    def gap(i: int) -> float:
        return words[i]["start"] - words[i - 1]["end"]

    quiet = np.zeros(0, dtype=bool)  # per frame of the cue: quieter than the pause level
    if loudness is not None:
        frames = loudness.frames(words[0]["start"], words[-1]["end"])
        if len(frames) and np.median(frames) > 0:
            quiet = frames < PAUSE_LEVEL * float(np.median(frames))
    first = loudness.index(words[0]["start"]) if loudness is not None else 0

    def pause(i: int) -> int:  # quiet frames between the middles of words i-1 and i
        return int(quiet[loudness.index(_mid(words[i - 1])) - first : loudness.index(_mid(words[i])) - first].sum()) if len(quiet) else 0

    return max(range(1, len(words)), key=lambda i: (pause(i), gap(i), i))


def snap_to_speech(words: list[dict], speech: list[tuple[float, float]]) -> list[dict]:
    """Pull word edges that lie in a VAD silence onto the speech they belong to (a word
    is speech; decoders' timestamps often start a word inside the pause before it)."""
    out = []
    for w in words:
        inside = [(a, b) for a, b in speech if a < w["end"] and b > w["start"]]
        if inside:
            w = {**w, "start": max(w["start"], inside[0][0]), "end": min(w["end"], inside[-1][1])}
        out.append(w)
    return out


def words_to_cues(words: list[dict], p: CueParams, breaks: list[float] = (), loudness: Loudness | None = None) -> list[dict]:
    """Cut a word sequence into cues at pauses (VAD silences or word gaps) and sentence ends;
    a cue that grows past the length limits is split at its quietest word boundary."""
    cues: list[list[dict]] = []
    for w in words:
        if cues:
            cur = cues[-1]
            prev = cur[-1]
            gap = w["start"] - prev["end"]
            silence = any(_mid(prev) < b < _mid(w) for b in breaks)
            sentence_done = prev["text"].strip().endswith(SENTENCE_END)
            if not (silence or gap >= p.cue_gap_s or sentence_done):
                cur.append(w)
                text = _join(cur)
                if len(cur) > 1 and (cur[-1]["end"] - cur[0]["start"] > p.max_cue_s or len(wrap(text, p)) > p.max_lines):
                    i = split_index(cur, loudness)
                    cues[-1], rest = cur[:i], cur[i:]
                    cues.append(rest)
                continue
        cues.append([w])
    return [{"start": c[0]["start"], "end": c[-1]["end"], "text": _join(c), "words": c} for c in cues]


def build_cues(segments: list[dict], p: CueParams, speech: list[tuple[float, float]] = (), loudness: Loudness | None = None) -> list[dict]:
    speech = list(speech)
    breaks = pause_breaks(speech)
    cues = []
    for s in segments:
        if s.get("words"):
            cues.extend(words_to_cues(snap_to_speech(s["words"], speech), p, breaks, loudness))
        elif s["text"].strip():
            cues.append({"start": s["start"], "end": s["end"], "text": s["text"].strip(), "words": []})
    return [c for c in cues if c["text"]]
