"""Chinese text in the outputs: the script (Simplified or Traditional, with OpenCC), and
spoken numbers as digits (inverse text normalization, with wetext).

Applied in the merge step to a file's transcript document before it is written, so every
output (TXT, SRT, VTT, TSV, JSON and its words) has it, whatever the backend. Each cue's text
is converted as a whole (OpenCC converts phrases: 鼠标 -> 滑鼠 for Taiwan, which a word at a
time would miss), and the words get back their part of the converted text through a
check of each word boundary (``realign``): a word keeps its times, and words that share a
phrase the conversion changed as a whole become one word from the first one's start to the
last one's end, so word times stay consistent with the text.

Numbers (``numbers``): wetext (the WeTextProcessing grammars as a runtime, no pynini build)
finds spoken numbers and what it would write for each; ``numbers_in`` keeps only what a
subtitle reader expects (``digits_for``) and leaves the rest as spoken. The words a number
was spoken in become one word with the digits, from the first one's start to the last one's
end (``replace_spans``).
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import asdict, dataclass

from firescribe.plumbing.params import rule_params
from firescribe.text import plain_text

# the config's chinese.script (the schema's enum) -> OpenCC's configuration: Simplified
# (from OpenCC's standard Traditional), Traditional (its standard characters), Taiwan's
# characters and phrases (鼠标 -> 滑鼠, 软件 -> 軟體) or Hong Kong's characters; None: as the
# model wrote it
SCRIPTS = {"simplified": "t2s", "traditional": "s2t", "taiwan": "s2twp", "hongkong": "s2hk"}


@dataclass(frozen=True)
class ChineseParams:
    """The config's ``chinese`` section (defaults: config/schemas; docs/mandarin.md)."""

    script: str | None  # a key of SCRIPTS, or None
    numbers: bool  # spoken numbers as digits

    def params(self) -> dict:
        """The merge rule's params: ``numbers`` only when on (it came later: firescribe.plumbing.params)."""
        return rule_params(asdict(self), as_before={"numbers": False})

    @classmethod
    def from_params(cls, params: dict) -> ChineseParams:
        return cls(script=params["script"], numbers=params.get("numbers", False))


@functools.cache
def script_converter(script: str):
    """OpenCC's ``convert`` for ``script`` (``SCRIPTS``), loaded once per process."""
    import opencc  # here: the settings that import this module are read by every job

    return opencc.OpenCC(SCRIPTS[script]).convert


def word_places(text: str, words: list[dict]) -> list[tuple[int, int]]:
    """(start, end) of each word's text in ``text``, found in order; a ValueError where the
    words do not spell it."""
    places, at = [], 0
    for w in words:
        i = text.find(w["text"], at)
        if i < 0:
            raise ValueError(f"word {w['text']!r} is not in {text!r} after position {at}")
        places.append((i, i + len(w["text"])))
        at = i + len(w["text"])
    return places


def joined_word(group: list[dict], text: str) -> dict:
    """One word of ``text`` for the words ``group``: from the first one's start to the last
    one's end, its confidence their lowest."""
    confidences = [w.get("confidence") for w in group]
    return {**group[0], "end": group[-1]["end"], "text": text, "confidence": None if None in confidences else min(confidences)}


def realign(text: str, words: list[dict], convert) -> tuple[str, list[dict]]:
    """``text`` converted, and ``words`` (their ``text`` found in order in ``text``) each with
    its part of it. A boundary between two words stays where converting the text on each
    side of it gives the whole text converted (it is not inside a phrase the conversion
    changes as a whole); words between two such boundaries become one word, from the first
    one's start to the last one's end, its confidence their lowest. A word whose text the
    conversion deleted is dropped."""
    new_text = convert(text)
    ends = [end for _, end in word_places(text, words)]
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
            out.append(joined_word(group, piece))
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


# characters of a spoken Chinese number, and words that make a number approximate (几十, 十多)
NUMERAL_CHARS = set("零〇一二两三四五六七八九十百千万亿点")
APPROXIMATE = set("几多余来")
DIGITS = re.compile(r"\d+(?:\.\d+)?[万亿]*")  # what may replace a number's spoken characters
PERCENT = "百分之"
POSITIONAL = "十百千万亿点"  # a number spoken with these is positional (一千二百三十四, 三点五)
SPOKEN_DIGITS = "零〇一二三四五六七八九"  # a number read digit by digit (a phone number) has only these
DIGIT_BY_DIGIT = 7  # and at least this many (a phone number; 一二三, 三零二 stay as spoken)


@functools.cache
def number_normalizer():
    """wetext's Chinese inverse text normalizer, loaded once per process."""
    from wetext import Normalizer  # ~290 ms: the settings that import this module are read by every job

    return Normalizer(lang="zh", operator="itn")


def digits_for(text: str, start: int, end: int, kind: str, written: str) -> str | None:
    """What replaces ``text[start:end]``, a number wetext found (its ``kind`` and the text it
    would write), or None to leave it as spoken:

    * counts, amounts, decimals, phone numbers (wetext's cardinal and measure): the digits,
      and the spoken words after them as spoken (一百米 -> 100米, not 100m; 三点五亿元 ->
      3.5亿元); percentages: 72%; years alone: 1998年;
    * left as spoken: a number next to another numeral or an approximation, which wetext
      reads as part of one (一点一点地, 几十个, 十几个, 十一点 as a clock time); numerals
      that are neither positional nor read digit by digit (三三两两); dates
      (2025/03/05), clock times (03:30:00p.m.), fractions (2/3), ranges (3~5), quarter hours
      (三点一刻) and anything written with spaces or symbols, which subtitles do not want."""
    before, after = text[start - 1 : start], text[end : end + 1]
    if (before and before in NUMERAL_CHARS | APPROXIMATE) or (after and after in NUMERAL_CHARS | APPROXIMATE):
        return None
    spoken = text[start:end]
    if kind == "date":
        return written if re.fullmatch(r"\d{4}年", written) else None
    if spoken.startswith(PERCENT):
        return written if re.fullmatch(r"\d+(?:\.\d+)?%", written) else None
    if kind not in ("cardinal", "measure"):
        return None
    head = len(spoken) - len(spoken.lstrip("".join(NUMERAL_CHARS)))  # the spoken number
    tail = spoken[head:]  # its unit or measure word, as spoken
    number = DIGITS.match(written)
    rest = written[number.end() :] if number else ""
    if not head or not number or re.search(r"[\d\s~/:.]", rest) or spoken[head - 1] == "点" or tail.startswith("刻"):
        return None
    if not set(spoken[:head]) & set(POSITIONAL) and not (head >= DIGIT_BY_DIGIT and set(spoken[:head]) <= set(SPOKEN_DIGITS)):
        return None  # neither 一千二百 nor a number read digit by digit (三三两两, 九九)
    return number.group() + tail


def numbers_in(text: str) -> list[tuple[int, int, str]]:
    """(start, end, digits) of each spoken number in ``text`` to write as digits (``digits_for``),
    in order and not overlapping."""
    if not NUMERAL_CHARS & set(text):
        return []
    result = number_normalizer().normalize_with_mapping(text)
    found: list[tuple[int, int, str]] = []
    for m in sorted(result.mappings, key=lambda m: (m.input_start, m.input_end)):
        digits = digits_for(text, m.input_start, m.input_end, m.token_type, m.output_text)
        if digits is not None and digits != text[m.input_start : m.input_end] and (not found or m.input_start >= found[-1][1]):
            found.append((m.input_start, m.input_end, digits))
    return found


def with_spans(text: str, spans: list[tuple[int, int, str]], lo: int, hi: int) -> str:
    """``text[lo:hi]`` with the (start, end, new) spans inside it replaced (in order, not
    overlapping)."""
    out, pos = [], lo
    for start, end, new in spans:
        if lo <= start and end <= hi:
            out += [text[pos:start], new]
            pos = end
    return "".join(out) + text[pos:hi]


def replace_spans(text: str, words: list[dict], spans: list[tuple[int, int, str]]) -> tuple[str, list[dict]]:
    """``text`` with each (start, end, new) span replaced (in order, not overlapping), and
    ``words`` (their texts in order in ``text``) with it: words that a span runs across become
    one word from the first one's start to the last one's end, its confidence their lowest,
    its text theirs with the spans replaced."""
    new_text = with_spans(text, spans, 0, len(text))
    if not words:
        return new_text, words
    places = word_places(text, words)
    groups = [[0]]  # runs of words joined by a span over the boundary between two of them
    for k in range(1, len(words)):
        joined = any(start < places[k - 1][1] and end > places[k][0] for start, end, _ in spans)
        groups[-1].append(k) if joined else groups.append([k])
    out = []
    for group in groups:
        lo, hi = places[group[0]][0], places[group[-1]][1]
        touching = [(a, b) for a, b, _ in spans if a < hi and b > lo]
        if not touching:
            out += [words[k] for k in group]
            continue
        lo, hi = min([lo] + [a for a, _ in touching]), max([hi] + [b for _, b in touching])
        out.append(joined_word([words[k] for k in group], with_spans(text, spans, lo, hi)))
    return new_text, out


def convert_numbers(segment: dict) -> dict:
    """A cue with its spoken numbers as digits (``numbers_in``), its words following."""
    spans = numbers_in(segment["text"])
    if not spans:
        return segment
    try:
        text, words = replace_spans(segment["text"], segment["words"], spans)
    except ValueError as exc:  # words that do not spell the text: the cue's text alone
        logging.getLogger(__name__).warning("chinese.numbers: %s; the words keep the numbers as spoken", exc)
        text, words = replace_spans(segment["text"], [], spans)[0], segment["words"]
    return {**segment, "text": text, "words": words}


def converter(params: ChineseParams | None):
    """The text conversion ``params`` ask for, or None for none."""
    if params is None or params.script is None:
        return None
    return script_converter(params.script)


def convert_doc(doc: dict, params: ChineseParams | None) -> dict:
    """A transcript document (firescribe.steps.merge.merge_transcript) with its cues converted as
    ``params`` ask (the numbers, then the script), and its text rebuilt from them (so TXT and
    subtitles agree)."""
    convert = converter(params)
    numbers = params is not None and params.numbers
    if (convert is None and not numbers) or not doc["segments"]:
        return doc
    segments = doc["segments"]
    if numbers:  # first: wetext reads Simplified characters
        segments = [convert_numbers(s) for s in segments]
    if convert is not None:
        segments = [convert_segment(s, convert) for s in segments]
    return {**doc, "segments": segments, "text": plain_text(segments)}
