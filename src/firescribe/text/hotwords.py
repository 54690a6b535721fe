"""Hotword lists: the names and terms of a corpus that decoding should favour.

A list is a UTF-8 text file, one hotword (a word or a phrase) per line, optionally followed
by `` :weight`` (sherpa-onnx's notation) to give that hotword its own bonus per token instead
of the backend's ``hotword_weight``::

    火山引擎
    FireRedASR :2.5
    # a comment; blank lines are skipped

The corpus list (config ``hotwords``) applies to every file; a sample sheet's ``hotwords``
column adds a list for one file (a hotword in both takes the per-file weight). How a backend
uses them: FireRedASR-AED biases its beam search (``firescribe.engines.fireredasr.context``);
whisper puts them in its prompt (weights do not apply).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_WEIGHT = re.compile(r"^(?P<text>.*\S)\s+:(?P<weight>\S+)$")


class HotwordsError(ValueError):
    """A hotword list that cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class Hotword:
    text: str
    weight: float | None = None  # None: the backend's hotword_weight


def read_hotwords(path: str | Path) -> list[Hotword]:
    """The hotwords of one list file, in file order (a repeated hotword: its last line)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise HotwordsError(f"hotword list {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HotwordsError(f"hotword list {str(path)!r} cannot be read: {exc}") from exc
    words: dict[str, Hotword] = {}
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        text, weight = line, None
        if m := _WEIGHT.match(line):
            try:
                text, weight = m["text"], float(m["weight"])
            except ValueError:
                raise HotwordsError(f"hotword list {str(path)!r} line {number}: weight {m['weight']!r} is not a number") from None
            if weight < 0:
                raise HotwordsError(f"hotword list {str(path)!r} line {number}: weight {weight} is negative")
        text = " ".join(text.split())
        words[text] = Hotword(text, weight)
    if not words:
        log.warning("hotword list %s holds no hotwords", path)
    return list(words.values())


def combine(*lists: list[Hotword]) -> list[Hotword]:
    """One list from several (corpus, then file): a hotword keeps its first place and its last weight."""
    words: dict[str, Hotword] = {}
    for hotwords in lists:
        for h in hotwords:
            words[h.text] = h
    return list(words.values())


def load_hotwords(*paths: str | Path | None) -> list[Hotword]:
    """The combined hotwords of the given list files (None: no list)."""
    return combine(*(read_hotwords(p) for p in paths if p))


def checksum(hotwords: list[Hotword]) -> str | None:
    """SHA-256 of the list as used (for provenance), None for no hotwords."""
    if not hotwords:
        return None
    text = "".join(f"{h.text}\t{'' if h.weight is None else h.weight}\n" for h in hotwords)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def provenance(hotwords: list[Hotword], used: int) -> dict:
    """What the transcript's JSON records of the hotwords a file was decoded with: how many
    were given, the list's checksum, and how many the backend could use."""
    return {"count": len(hotwords), "sha256": checksum(hotwords), "used": used}
