"""Text: what turns decoded words into what a viewer reads (cues, Chinese script and numbers,
punctuation, the guard, hotwords, accuracy). What those modules share is here: which
characters are CJK (Chinese) ideographs, and a file's plain text from its cues."""

from __future__ import annotations

import re

# CJK unified ideographs, extension A and the compatibility ideographs: one character each is
# a subtitle line's unit, a guard token and a CER token
CJK_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK = re.compile(f"[{CJK_RANGES}]")


def is_cjk(c: str) -> bool:
    """``c`` (one character) is a CJK ideograph."""
    return CJK.fullmatch(c) is not None


def plain_text(cues: list[dict]) -> str:
    """The cues' texts joined: with a space before each, except one that starts with a CJK
    character; the markers of held-back units (``held_back``) left out."""
    parts: list[str] = []
    for c in cues:
        if "held_back" in c:
            continue
        t = c["text"]
        if parts and not is_cjk(t[:1]):
            parts.append(" ")
        parts.append(t)
    return "".join(parts).strip()
