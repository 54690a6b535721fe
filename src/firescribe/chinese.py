"""Chinese text in the outputs: the script (Simplified or Traditional, with OpenCC).

Applied in the merge step to a file's transcript document before it is written, so every
output (TXT, SRT, VTT, TSV, JSON and its words) has it, whatever the backend. Each cue's text
is converted as a whole (OpenCC converts phrases: 鼠标 -> 滑鼠 for Taiwan, which a word at a
time would miss), and the words get back their part of the converted text through a
check of each word boundary (``realign``): a word keeps its times, and words that share a
phrase the conversion changed as a whole become one word from the first one's start to the
last one's end, so word times stay consistent with the text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

# the config's chinese.script (the schema's enum) -> OpenCC's configuration: Simplified
# (from OpenCC's standard Traditional), Traditional (its standard characters), Taiwan's
# characters and phrases (鼠标 -> 滑鼠, 软件 -> 軟體) or Hong Kong's characters; None: as the
# model wrote it
SCRIPTS = {"simplified": "t2s", "traditional": "s2t", "taiwan": "s2twp", "hongkong": "s2hk"}


@dataclass(frozen=True)
class ChineseParams:
    """The config's ``chinese`` section (defaults: config/schemas; docs/mandarin.md)."""

    script: str | None  # a key of SCRIPTS, or None


@functools.cache
def script_converter(script: str):
    """OpenCC's ``convert`` for ``script`` (``SCRIPTS``), loaded once per process."""
    import opencc  # here: the settings that import this module are read by every job

    return opencc.OpenCC(SCRIPTS[script]).convert


def realign(text: str, words: list[dict], convert) -> tuple[str, list[dict]]:
    """``text`` converted, and ``words`` (their ``text`` found in order in ``text``) each with
    its part of it. A boundary between two words stays where converting the text on each
    side of it gives the whole text converted (it is not inside a phrase the conversion
    changes as a whole); words between two such boundaries become one word, from the first
    one's start to the last one's end, its confidence their lowest. A word whose text the
    conversion deleted is dropped."""
    new_text = convert(text)
    ends, pos = [], 0
    for w in words:
        i = text.find(w["text"], pos)
        if i < 0:
            raise ValueError(f"word {w['text']!r} is not in {text!r} after position {pos}")
        pos = i + len(w["text"])
        ends.append(pos)
    ends[-1] = len(text)  # the last word takes what follows it
    out: list[dict] = []
    group: list[dict] = []
    at = 0  # where the group's text starts in new_text
    for w, b in zip(words, ends):
        group.append(w)
        if b < len(text):
            head = convert(text[:b])
            if head + convert(text[b:]) != new_text:
                continue  # b is inside a phrase converted as a whole
        else:
            head = new_text
        piece = new_text[at : len(head)].strip()
        if piece:
            confidences = [g.get("confidence") for g in group]
            out.append({**group[0], "end": group[-1]["end"], "text": piece, "confidence": None if None in confidences else min(confidences)})
        group, at = [], len(head)
    return new_text, out


def convert_segment(segment: dict, convert) -> dict:
    """A cue (``text``, ``words``) with its text converted as a whole and its words realigned
    (``realign``)."""
    if not segment["words"]:
        return {**segment, "text": convert(segment["text"])}
    try:
        text, words = realign(segment["text"], segment["words"], convert)
    except ValueError:  # words that do not spell the text: each converted alone
        text, words = convert(segment["text"]), [{**w, "text": convert(w["text"])} for w in segment["words"]]
    return {**segment, "text": text, "words": words}


def converter(params: ChineseParams | None):
    """The text conversion ``params`` ask for, or None for none."""
    if params is None or params.script is None:
        return None
    return script_converter(params.script)


def convert_doc(doc: dict, params: ChineseParams | None) -> dict:
    """A transcript document (firescribe.merge.merge_transcript) with its cues converted as
    ``params`` ask, and its text rebuilt from them (so TXT and subtitles agree)."""
    from firescribe.merge import plain_text

    convert = converter(params)
    if convert is None or not doc["segments"]:
        return doc
    segments = [convert_segment(s, convert) for s in doc["segments"]]
    return {**doc, "segments": segments, "text": plain_text(segments)}
