"""A guard on every ASR unit: repetition loops and text on non-speech.

What trips it (``trips``), each for a reason seen in practice:

* ``repetition``: an n-gram of up to ``MAX_LOOP_NGRAM`` tokens (a CJK character or a Latin
  word) repeated back to back at least 3 times, covering at least ``loop_tokens`` tokens
  ("嗯嗯嗯…", FireRedASR #91; a random-weight AED loops on one or two tokens).
* ``compression``: the text's gzip compression ratio above ``compression_ratio`` (whisper's
  own test for repetitive output: 2.4).
* ``rate``: more text than the unit's audio can hold, at ``max_cjk_chars_per_s`` CJK
  characters plus ``max_words_per_s`` Latin words per second (with ``RATE_SLACK_S`` of slack
  for very short units).
* ``no_speech`` (backends that give the probabilities, i.e. whisper): no-speech probability
  above ``no_speech`` together with an average token log-probability below ``logprob``
  (faster-whisper's sequential-mode rule, which its batched mode does not apply).

The remedy (``guard_unit``): the backend re-decodes the unit differently (``redecode``:
FireRedASR-AED decodes the unit's two halves, cut at its quietest point; whisper runs
faster-whisper's sequential mode with its temperature fallback), the result with fewer trips
is kept; if it still trips, a non-speech unit's text is dropped and loops are cut to their
first occurrence. What tripped and what was done is recorded on the unit.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass

from firescribe.text import CJK, CJK_RANGES

MAX_LOOP_NGRAM = 16  # longest repeated phrase (tokens) looked for
MIN_LOOP_REPEATS = 3  # a phrase said twice is common speech; three times back to back is a loop
RATE_SLACK_S = 1.0  # seconds added to a unit's audio before the rate test (short units)
# a token: one CJK character, or a run of other letters and digits (a word, apostrophes inside)
TOKEN = re.compile(f"[{CJK_RANGES}]|[^\\W_{CJK_RANGES}]+(?:'[^\\W_]+)*")


@dataclass(frozen=True)
class GuardParams:
    """The config's ``guard`` section (defaults: config/schemas; meaning: docs/configuration.md)."""

    enabled: bool
    loop_tokens: int
    compression_ratio: float
    max_cjk_chars_per_s: float
    max_words_per_s: float
    logprob: float
    no_speech: float


def tokens(text: str) -> list[tuple[str, int, int]]:
    """(token, start, end) in ``text``: CJK characters and Latin words, lower-cased."""
    return [(m.group().lower(), m.start(), m.end()) for m in TOKEN.finditer(text)]


def find_loop(toks: list[str], loop_tokens: int) -> tuple[int, int, int] | None:
    """The first loop in ``toks``: (start, n, repeats) of an n-gram repeated back to back
    ``repeats`` >= MIN_LOOP_REPEATS times over >= ``loop_tokens`` tokens, else None."""
    for i in range(len(toks)):
        for n in range(1, MAX_LOOP_NGRAM + 1):
            if i + MIN_LOOP_REPEATS * n > len(toks):
                break
            gram, r = toks[i : i + n], 1
            while toks[i + r * n : i + (r + 1) * n] == gram:
                r += 1
            if r >= MIN_LOOP_REPEATS and r * n >= loop_tokens:
                return i, n, r
    return None


def compression_ratio(text: str) -> float:
    """UTF-8 bytes over gzip-compressed bytes, as whisper computes it."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def unit_text(segments: list[dict]) -> str:
    return " ".join(s["text"] for s in segments).strip()


def trips(segments: list[dict], seconds: float, p: GuardParams) -> list[str]:
    """What trips the guard for one unit's ``segments`` (dicts with text and, where the backend
    gives them, avg_logprob and no_speech_prob) over ``seconds`` of audio."""
    text = unit_text(segments)
    if not text:
        return []
    toks = [t for t, _, _ in tokens(text)]
    out = []
    if find_loop(toks, p.loop_tokens) is not None:
        out.append("repetition")
    if compression_ratio(text) > p.compression_ratio:
        out.append("compression")
    cjk = sum(1 for t in toks if CJK.fullmatch(t))
    if cjk / p.max_cjk_chars_per_s + (len(toks) - cjk) / p.max_words_per_s > seconds + RATE_SLACK_S:
        out.append("rate")
    probs = [(s["no_speech_prob"], s["avg_logprob"]) for s in segments if s.get("no_speech_prob") is not None]
    if probs and all(ns > p.no_speech and lp < p.logprob for ns, lp in probs):
        out.append("no_speech")
    return out


def _cut_one_loop(seg: dict, loop_tokens: int) -> dict | None:
    """``seg`` with its first loop cut to the loop's first occurrence, or None if it has none.
    Word-timed segments lose the repeated words; others lose the repeated text."""
    words = seg.get("words") or []
    if words:  # tokens owned by words
        owned = [(t, k) for k, w in enumerate(words) for t, _, _ in tokens(w["text"])]
        loop = find_loop([t for t, _ in owned], loop_tokens)
        if loop is None:
            return None
        i, n, r = loop
        keep_until = owned[i + n - 1][1]  # the word that ends the first occurrence
        drop = {k for _, k in owned[i + n : i + r * n]} - set(range(keep_until + 1))
        kept = [w for k, w in enumerate(words) if k not in drop]
        return {**seg, "words": kept, "text": "".join(w["text"] for w in kept).strip(), "end": max(seg["start"], kept[-1]["end"])}
    toks = tokens(seg["text"])
    loop = find_loop([t for t, _, _ in toks], loop_tokens)
    if loop is None:
        return None
    i, n, r = loop
    a, b = toks[i + n - 1][2], toks[i + r * n - 1][2]
    return {**seg, "text": (seg["text"][:a] + seg["text"][b:]).strip()}


def cut_loops(segments: list[dict], loop_tokens: int) -> list[dict]:
    """Every loop in every segment cut to its first occurrence."""
    out = []
    for seg in segments:
        while (cut := _cut_one_loop(seg, loop_tokens)) is not None:
            seg = cut
        out.append(seg)
    return out


def guard_unit(segments: list[dict], seconds: float, p: GuardParams, redecode) -> tuple[list[dict], dict | None]:
    """Check one unit; where it trips, remedy it (see module doc). ``redecode()`` returns the
    unit's segments decoded the backend's other way, and how (``{"sampled": false}``, or
    what was sampled with which seed). Returns the segments to keep and the record (None
    when nothing tripped): what tripped first, after the re-decode, the actions taken, and
    how the re-decode decoded."""
    first = trips(segments, seconds, p)
    if not first:
        return segments, None
    record = {"tripped": first, "actions": ["redecoded"]}
    second, record["redecode"] = redecode()
    after = trips(second, seconds, p)
    if len(after) <= len(first):
        segments = second
        record["actions"].append("kept_redecode")
    else:
        after = first
    record["tripped_after"] = after
    if "no_speech" in after:
        segments = []
        record["actions"].append("dropped_text")
    elif after:
        cut = cut_loops(segments, p.loop_tokens)
        record["actions"].append("cut_loops" if cut != segments else "flagged")
        segments = cut
    return segments, record


# --- what a viewer can read: the merge step holds back the rest (a marker cue in its place)

# letters of each script (a token's script is its first letter's; digits have none)
SCRIPTS = {
    "Han": CJK_RANGES,
    "Kana": "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f",
    "Hangul": "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af",
    "Cyrillic": "\u0400-\u052f",
    "Greek": "\u0370-\u03ff",
    "Arabic": "\u0600-\u06ff\u0750-\u077f",
    "Hebrew": "\u0590-\u05ff",
    "Devanagari": "\u0900-\u097f",
    "Thai": "\u0e00-\u0e7f",
    "Latin": "A-Za-z\u00c0-\u024f",
}
SCRIPT_OF = [(name, re.compile(f"[{chars}]")) for name, chars in SCRIPTS.items()]
# the scripts a language is written in; a language not listed: Latin. Latin words among another
# script's text (names, "AI") count as foreign: a few stay under ``foreign_script_share``
LANGUAGE_SCRIPTS = {
    **dict.fromkeys(("zh", "yue"), {"Han"}),
    "ja": {"Han", "Kana"},
    "ko": {"Hangul", "Han"},
    **dict.fromkeys(("ru", "uk", "be", "bg", "sr", "mk", "kk"), {"Cyrillic"}),
    "el": {"Greek"},
    **dict.fromkeys(("ar", "fa", "ur", "ps"), {"Arabic"}),
    **dict.fromkeys(("he", "yi"), {"Hebrew"}),
    **dict.fromkeys(("hi", "mr", "ne"), {"Devanagari"}),
    "th": {"Thai"},
}
# a script's own language's scripts, for a file of no given language (``file_scripts``)
SCRIPT_GROUP = {"Han": {"Han"}, "Kana": {"Han", "Kana"}, "Hangul": {"Hangul", "Han"}}
MUSIC_EVENTS = ("singing", "music")  # FireRedVAD's event model (firescribe.engines.fireredvad)
MUSIC_OVER = 0.5  # a unit is over music (or singing) when the event covers at least this share of it


@dataclass(frozen=True)
class ReadableParams:
    """The config's ``guard`` section, what the merge step reads (defaults and meaning:
    config/schemas, docs/guard.md): which units a viewer cannot read, and what they see."""

    enabled: bool
    marker: str
    lyrics: bool
    foreign_script_share: float
    max_word_s: float
    music_confidence: float


def script(token: str) -> str | None:
    for name, pattern in SCRIPT_OF:
        if pattern.match(token):
            return name
    return None


def language_scripts(language: str | None) -> set[str] | None:
    """The scripts ``language`` (an ISO 639-1 code, or a tag such as zh-CN) is written in;
    None for no language."""
    if not language:
        return None
    return LANGUAGE_SCRIPTS.get(language.lower().replace("_", "-").split("-")[0], {"Latin"})


def file_scripts(texts: list[str]) -> set[str] | None:
    """The scripts of a file of no given language: its most used script's language's (over
    all its ``texts``; a kana word per four kanji is Japanese); None when it has no letters."""
    counts: dict[str, int] = {}
    for text in texts:
        for tok, _, _ in tokens(text):
            if (name := script(tok)) is not None:
                counts[name] = counts.get(name, 0) + 1
    if not counts:
        return None
    main = max(counts, key=lambda k: (counts[k], k))
    if main == "Han" and 4 * counts.get("Kana", 0) >= counts["Han"]:  # Japanese: kana words, kanji characters
        main = "Kana"
    return SCRIPT_GROUP.get(main, {main})


def foreign_share(text: str, scripts: set[str]) -> float:
    """The share of ``text``'s tokens with letters (a CJK character or a word) in scripts
    other than ``scripts``. Latin words in text of another script's language count only
    beside that script's tokens: Latin fragments scattered through Chinese text are foreign,
    a unit all in English in a Mandarin file (a quote, code-switching) is not."""
    named = [n for n in (script(t) for t, _, _ in tokens(text)) if n is not None]
    if not named:
        return 0.0
    native = any(n in scripts for n in named)
    return sum(1 for n in named if n not in scripts and (n != "Latin" or native)) / len(named)


def confidence(segments: list[dict]) -> float | None:
    """A unit's confidence: the mean of its words' (whisper, FireRedASR2); else the mean
    probability of its segments' tokens (whisper's average log-probability); None if the
    backend gives neither (FireRedASR v1)."""
    words = [w["confidence"] for s in segments for w in s.get("words") or [] if w.get("confidence") is not None]
    if words:
        return sum(words) / len(words)
    logprobs = [s["avg_logprob"] for s in segments if s.get("avg_logprob") is not None]
    return math.exp(sum(logprobs) / len(logprobs)) if logprobs else None


def event_over(span: tuple[float, float], events: list[dict]) -> str | None:
    """The music event (singing first) that covers at least MUSIC_OVER of ``span``, else None."""
    a, b = span
    for kind in MUSIC_EVENTS:
        covered = sum(max(0.0, min(b, e["end"]) - max(a, e["start"])) for e in events if e["event"] == kind)
        if b > a and covered >= MUSIC_OVER * (b - a):
            return kind
    return None


def audio_seconds(start: float, end: float, spans: list) -> float:
    """The audio of a unit's ``spans`` (media times) between ``start`` and ``end``: what the
    model heard there (a stitched unit's pauses are not in it)."""
    return sum(max(0.0, min(end, b) - max(start, a)) for a, b in spans)


def hold_back(
    segments: list[dict], spans: list, record: dict | None, scripts: set[str] | None, event: str | None, g: GuardParams, p: ReadableParams
) -> str | None:
    """Why a unit's text (its ``segments`` as the ASR step kept them, on the media timeline,
    over its ``spans`` of audio, with the guard's ``record``) is not for a viewer, or None if it is: what a
    viewer sees in its place is a marker (docs/guard.md). ``scripts``: those of the unit's
    language; ``event``: what FireRedVAD's event model heard over it (``event_over``).
    Reasons: ``still_trips`` (the guard tripped, and the re-decode's text, its loops cut,
    still trips), ``script`` (more than ``foreign_script_share`` of its tokens in scripts
    foreign to the language), ``long_word`` (a word over more than ``max_word_s`` of the
    unit's audio: a word across a stitched unit's cut-out pause is not long), ``music``
    or ``singing`` (over it, a confidence below ``music_confidence``; sung text above it is
    lyrics: held back too unless ``lyrics``)."""
    text = unit_text(segments)
    if not text:
        return None
    if record is not None and trips(segments, sum(b - a for a, b in spans), g):
        return "still_trips"
    if scripts is not None and foreign_share(text, scripts) > p.foreign_script_share:
        return "script"
    if any(audio_seconds(w["start"], w["end"], spans) > p.max_word_s for s in segments for w in s.get("words") or []):
        return "long_word"
    if event is not None:
        conf = confidence(segments)
        if (conf is not None and conf < p.music_confidence) or (event == "singing" and not p.lyrics):
            return event
    return None


def event_record(event: str) -> dict:
    """The record of a speech segment that FireRedVAD's event model heard as only ``event``
    (singing or music): never decoded, so no text (firescribe.engines.fireredvad.label_segment)."""
    return {"tripped": [event], "tripped_after": [event], "actions": ["not_transcribed"]}
