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
    """The config's ``guard`` section (defaults and meaning: config/schemas, config/README.md)."""

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
    unit's segments decoded the backend's other way. Returns the segments to keep and the
    record (None when nothing tripped): what tripped first, after the re-decode, and the
    actions taken."""
    first = trips(segments, seconds, p)
    if not first:
        return segments, None
    record = {"tripped": first, "actions": ["redecoded"]}
    second = redecode()
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


def event_record(event: str) -> dict:
    """The record of a speech segment that FireRedVAD's event model heard as only ``event``
    (singing or music): never decoded, so no text (firescribe.fireredvad.label_segment)."""
    return {"tripped": [event], "tripped_after": [event], "actions": ["not_transcribed"]}
