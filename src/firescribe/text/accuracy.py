"""Accuracy against reference transcripts: WER for English, CER for Chinese.

Text is normalised the way FireRedASR's published numbers are (its ``wer.py``): ``<unk>``
dropped, punctuation (ASCII and full-width) turned into spaces, upper-cased, then every CJK
character is one token and every other whitespace-separated run is one word. So Chinese is
scored per character (CER), English per word (WER), and mixed text per character-or-word,
with spacing between Chinese characters not mattering. The alignment is jiwer's.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import jiwer

from firescribe.text import CJK_RANGES

PUNCTUATION = (
    "，。？！,.?!＂＃＄％＆＇（）＊＋－／：；＜＝＞＠［＼］＾＿｀｛｜｝～｟｠｢｣､\u3000、〃〈〉《》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟〰〾〿–—‘’‛“”„‟…‧﹏﹑﹔·｡\":"
    "()[]{}/;`|=+"
)
_PUNCT_RUN = re.compile("[" + re.escape(PUNCTUATION) + "]+")
_CJK = re.compile(f"([{CJK_RANGES}])")  # a CJK character: a token of its own


def tokens(text: str) -> list[str]:
    """Scoring units of ``text``: CJK characters and upper-cased words, punctuation removed."""
    text = _PUNCT_RUN.sub(" ", text.replace("<unk>", "")).strip().upper()
    out: list[str] = []
    for part in _CJK.split(text):
        out.extend([part] if _CJK.fullmatch(part) else part.split())
    return out


def metric_of(reference_tokens: list[str]) -> str:
    """"cer" when the reference is (partly) Chinese, else "wer"."""
    return "cer" if any(_CJK.fullmatch(t) for t in reference_tokens) else "wer"


@dataclass(frozen=True)
class Score:
    metric: str  # "wer" or "cer"
    ref_tokens: int
    substitutions: int
    deletions: int
    insertions: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def error_rate(self) -> float:
        return self.errors / self.ref_tokens if self.ref_tokens else float(self.insertions > 0)

    def row(self) -> dict:
        return {**asdict(self), "errors": self.errors, "error_rate": round(self.error_rate, 4)}


def score(reference: str, hypothesis: str) -> Score:
    ref, hyp = tokens(reference), tokens(hypothesis)
    metric = metric_of(ref)
    if not ref:
        return Score(metric, 0, 0, 0, len(hyp))
    if not hyp:
        return Score(metric, len(ref), 0, len(ref), 0)
    # tokens hold no whitespace, so joining with spaces makes jiwer align exactly these units
    out = jiwer.process_words(" ".join(ref), " ".join(hyp))
    return Score(metric, len(ref), out.substitutions, out.deletions, out.insertions)


def total(scores: list[Score]) -> Score | None:
    """Corpus score of one metric: errors and reference lengths summed (not a mean of rates)."""
    if not scores:
        return None
    return Score(
        scores[0].metric,
        sum(s.ref_tokens for s in scores),
        sum(s.substitutions for s in scores),
        sum(s.deletions for s in scores),
        sum(s.insertions for s in scores),
    )


def occurrences(phrase: str, text: str) -> int:
    """Non-overlapping occurrences of ``phrase`` in ``text``, both in scoring units (so case,
    punctuation and spacing between Chinese characters do not matter, and an English word
    only matches whole words)."""
    want, have = tokens(phrase), tokens(text)
    if not want:
        return 0
    count, i = 0, 0
    while i + len(want) <= len(have):
        if have[i : i + len(want)] == want:
            count, i = count + 1, i + len(want)
        else:
            i += 1
    return count


@dataclass(frozen=True)
class HotwordScore:
    in_reference: int  # occurrences of the hotwords in the references
    found: int  # of those, how many the transcripts hold (per hotword and file, at most the reference's count)
    false_alarms: int  # occurrences in the transcripts beyond the reference's count

    @property
    def recall(self) -> float | None:
        return self.found / self.in_reference if self.in_reference else None


def hotword_score(pairs: list[tuple[str, str, list[str]]]) -> HotwordScore:
    """(reference, transcript, hotwords) per file -> how many hotword occurrences the
    transcripts got right and how many they added."""
    in_ref = found = false = 0
    for reference, hypothesis, hotwords in pairs:
        for h in hotwords:
            r, t = occurrences(h, reference), occurrences(h, hypothesis)
            in_ref, found, false = in_ref + r, found + min(r, t), false + max(0, t - r)
    return HotwordScore(in_ref, found, false)
