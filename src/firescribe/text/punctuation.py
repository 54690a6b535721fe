"""Punctuation and casing with FireRedPunc (FireRedASR2S): a BERT encoder (transformers'
``BertModel``) and a linear classifier that gives each input token the mark that follows it
(none, ，。？！). Same results as the official code on the released folder, used unchanged:

    model.pth.tar                    args + model_state_dict (classifier and BERT weights)
    chinese-lert-base/               BERT config, vocabulary (tokenizer) and weights
    chinese-bert-wwm-ext_vocab.txt   input ids
    out_dict                         the labels, "<space>" = no mark

Text without word times: ``punctuate``. Words with times (FireRedASR2-AED, whisper): each
word gets the mark the classifier puts after its last piece, and sentences end at a mark
(``punctuate_words``), so word times and confidences are kept.

The checkpoint is loaded as FireRedASR's is (``fireredasr.loader.safe_torch_load``:
``weights_only=True``, only ``argparse.Namespace`` allowed besides tensors), never by
unpickling arbitrary objects.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING

# torch (~1 s), transformers (~0.6 s) and the checkpoint loader (torch) are imported where
# used: every job reads settings, which import this module's PunctuationParams
if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

MODEL_FILES = ("model.pth.tar", "chinese-lert-base", "chinese-bert-wwm-ext_vocab.txt", "out_dict")
NO_MARK = " "  # out_dict's "<space>": the token is not followed by punctuation
LATIN = re.compile(r"[a-zA-Z0-9#]")  # a token of Latin letters or digits (spaced from its neighbour)
HALF_WIDTH = re.compile(r"[a-zA-Z0-9']")  # counts half a character towards sentence_max_length
ENGLISH_MARKS = {"，": ",", "。": ".", "？": "?", "！": "!"}
# after casing: the pronoun I and its contractions
PRONOUN_I = ("i", "i'm", "i'd", "i've", "i'll")


class PunctuationModelError(RuntimeError):
    """A FireRedPunc folder that is missing a file or holds a malformed one (named)."""


@dataclass(frozen=True)
class PunctuationParams:
    """The config's ``punctuation`` section (defaults: config/schemas)."""

    model_dir: str | None
    batch_size: int
    sentence_max_length: int
    whisper: bool
    precision: str  # fp32 (the official results) or int8 (BERT's linear layers quantized)

    def applies_to(self, backend: str) -> bool:
        """On when a model is given: for FireRedASR-AED (no punctuation of its own) and, when
        asked, for whisper."""
        return bool(self.model_dir) and (backend != "whisper" or self.whisper)


def read_labels(path: Path) -> list[str]:
    """A token list file: "token id" or "token" per line (ids in order); "<space>" or a blank
    line is a space."""
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        fields = line.split()
        token = fields[0] if fields else " "
        if len(fields) >= 2 and int(fields[1]) != i:
            raise PunctuationModelError(f"{path}: line {i + 1}: id {fields[1]} out of order")
        out.append(" " if token == "<space>" else token)
    return out


def load_checkpoint(path: Path) -> dict:
    """model.pth.tar's args and state dict, unpickling nothing but tensors and the args."""
    from firescribe.engines.fireredasr.loader import safe_torch_load

    try:
        package = safe_torch_load(path, mmap=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable or unsafe checkpoint is reported the same way
        raise PunctuationModelError(f"{path}: not a FireRedPunc checkpoint ({str(exc).splitlines()[0][:300]})") from exc
    if not isinstance(package, dict) or not {"args", "model_state_dict"} <= package.keys():
        raise PunctuationModelError(f"{path}: not a FireRedPunc checkpoint (no args / model_state_dict)")
    return package


def fix_text(text: str) -> str:
    """The official casing and English punctuation rules: lower-case; a Chinese mark inside,
    at the start or the end of English text becomes the English one; I and its contractions
    capitalised; the first letter and every letter after a sentence end upper-cased."""
    text = text.lower()
    for cn, en in ENGLISH_MARKS.items():
        text = re.sub(f"([a-z]){cn}([a-z])", rf"\1{en} \2", text)
    for cn, en in ENGLISH_MARKS.items():
        text = re.sub(f"^([a-z]+){cn}", rf"\1{en}", text)
    for cn, en in ENGLISH_MARKS.items():
        text = re.sub(f"( [a-zA-Z']+){cn}$", rf"\1{en}", text)
    for word in PRONOUN_I:
        text = re.sub(f"^{word} ", f"{word.capitalize()} ", text)
    for word in PRONOUN_I:
        text = re.sub(f" {word} ", f" {word.capitalize()} ", text)
    if text[:1].isascii() and text[:1].islower():
        text = text[0].upper() + text[1:]
    return re.sub(r"([.!?。？！])\s+([a-z])", lambda m: f"{m.group(1)} {m.group(2).upper()}", text)


def restore_unknown(text: str, pieces: list[str]) -> list[str]:
    """``pieces`` with each run of [UNK] replaced by the characters of ``text`` it stands for
    (found up to the next known piece), one character per [UNK], as the official tokenizer
    wrapper does; a run that stands for more characters than it has [UNK]s keeps its first ones."""
    if "[UNK]" not in pieces:
        return pieces
    text = text.lower()
    chars = text.replace(" ", "")
    if not HALF_WIDTH.search(text) and len(chars) == len(pieces) and all(p in ("[UNK]", c) for p, c in zip(pieces, chars)):
        return list(chars)  # one piece per character: each [UNK] is its own character
    out: list[str] = []
    pos, i = 0, 0
    while i < len(pieces):
        if pieces[i] != "[UNK]":
            out.append(pieces[i])
            pos += len(pieces[i].replace("##", ""))
            i += 1
            continue
        j = i
        while j < len(pieces) and pieces[j] == "[UNK]":
            j += 1
        rest = chars[pos:]
        anchor = rest.find(pieces[j].replace("##", "")) if j < len(pieces) else -1
        stands_for = rest[:anchor] if anchor != -1 else rest[: j - i]
        out.extend(stands_for[: j - i])
        pos += len(stands_for)
        i = j
    return [p for p in out if p and p != "[UNK]"]


def join_pieces(pieces: list[str], labels: list[str]) -> str:
    """Text of labelled pieces: word pieces joined, Latin tokens spaced unless a mark sits
    between them, each mark after its piece."""
    text = ""
    for i, (piece, label) in enumerate(zip(pieces, labels)):
        if piece.startswith("##"):
            piece = piece.replace("##", "")
        elif i > 0 and LATIN.search(piece) and LATIN.search(pieces[i - 1]) and labels[i - 1] == NO_MARK:
            piece = " " + piece
        text += piece if label == NO_MARK else piece + label
    return text.replace("  ", " ")


def piece_width(piece: str) -> float:
    """A piece's length towards sentence_max_length: Latin letters and digits count half."""
    return sum(0.5 if HALF_WIDTH.match(c) else 1.0 for c in piece.removeprefix("##"))


def limited_labels(probs: torch.Tensor, pieces: list[str], max_length: int) -> list[int]:
    """Label ids for one text whose sentences must stay within ``max_length`` characters:
    from each sentence start, the sentence ends at the first piece whose mark is likelier
    than none; past ``max_length`` it ends at the piece likeliest to end one so far, with
    its likeliest mark. ``probs``: (n_pieces, n_labels) softmax."""
    import torch

    n, out, start = len(pieces), [], 0
    while start < n:
        r, width, best, best_at = start, 0.0, -1.0, -1
        while r < n:
            w = piece_width(pieces[r])
            if width + w > max_length and best >= 0:
                break
            no_mark = float(probs[r][0])
            end_prob = 1.0 - no_mark
            if end_prob >= best:
                best, best_at = end_prob, r
            width += w
            r += 1
            if end_prob >= no_mark:
                break
        end = n - 1 if r >= n else best_at
        marks = probs[end][1:]
        mark = 1 + int(torch.argmax(marks)) if float(marks.max()) > 0.0 else 1
        out += [0] * (end - start) + [mark]
        start = end + 1
    return out


def mark_after(word: str, mark: str) -> str:
    """``word`` followed by ``mark``, in English form after a Latin word (as the official rules
    turn a Chinese mark between or after English words into the English one)."""
    if mark == NO_MARK:
        return word
    return word + (ENGLISH_MARKS.get(mark, mark) if LATIN.search(word[-1:]) else mark)


def punctuate_segments(model: FireRedPunc, segments: list[dict], p: PunctuationParams) -> list[dict]:
    """Segments (merge's, in time order) with punctuation: a segment's text where it has no word
    times, else each word's text followed by its mark, times and confidences kept. Batches of
    ``p.batch_size`` segments of similar length (less padding), the same for the same input."""
    out = [dict(s) for s in segments]
    plain = sorted((s for s in out if not s.get("words") and s["text"].strip()), key=lambda s: len(s["text"]))
    timed = sorted((s for s in out if s.get("words")), key=lambda s: len(s["words"]))
    for i in range(0, len(plain), p.batch_size):
        batch = plain[i : i + p.batch_size]
        for s, text in zip(batch, model.punctuate([s["text"] for s in batch])):
            s["text"] = text
    for i in range(0, len(timed), p.batch_size):
        batch = timed[i : i + p.batch_size]
        marks = model.word_marks([[w["text"].strip() for w in s["words"]] for s in batch], p.sentence_max_length)
        for s, word_marks in zip(batch, marks):
            s["words"] = [{**w, "text": mark_after(w["text"], m)} for w, m in zip(s["words"], word_marks)]
            s["text"] = "".join(w["text"] for w in s["words"]).strip()
    log.info("punctuation: %d segments of text, %d of timed words", len(plain), len(timed))
    return out


class FireRedPunc:
    """A released FireRedPunc folder, loaded once; ``precision="int8"`` quantizes BERT's linear
    layers dynamically (torch, CPU): ~4.5x faster here, marks no longer equal the official ones."""

    def __init__(self, model_dir: str | Path, precision: str = "fp32"):
        import torch
        from transformers import BertModel, BertTokenizer

        root = Path(model_dir)
        for name in MODEL_FILES:
            if not (root / name).exists():
                raise PunctuationModelError(f"{root / name}: missing (a FireRedPunc folder holds {', '.join(MODEL_FILES)})")
        package = load_checkpoint(root / "model.pth.tar")
        args = package["args"]
        self.labels = read_labels(root / "out_dict")
        self.input_ids = {t: i for i, t in enumerate(read_labels(root / "chinese-bert-wwm-ext_vocab.txt"))}
        try:
            self.tokenizer = BertTokenizer.from_pretrained(str(root / "chinese-lert-base"))
            bert = BertModel.from_pretrained(str(root / "chinese-lert-base"), add_pooling_layer=False)
        except Exception as exc:  # noqa: BLE001
            raise PunctuationModelError(f"{root / 'chinese-lert-base'}: not a BERT folder ({str(exc).splitlines()[0][:300]})") from exc
        self.bert = bert.eval()
        self.classifier = torch.nn.Linear(bert.config.hidden_size, int(args.odim))
        state = package["model_state_dict"]
        missing = {"classifier.weight", "classifier.bias"} - state.keys()
        if missing or len(self.labels) != int(args.odim):
            raise PunctuationModelError(f"{root / 'model.pth.tar'}: classifier does not match out_dict ({len(self.labels)} labels, odim {args.odim})")
        self.bert.load_state_dict({k[len("bert."):]: v for k, v in state.items() if k.startswith("bert.")}, strict=False)
        self.classifier.load_state_dict({"weight": state["classifier.weight"], "bias": state["classifier.bias"]})
        self.cls_id, self.pad_id, self.unk_id = int(args.cls_id), self.input_ids["[PAD]"], self.input_ids["[UNK]"]
        self.max_input = bert.config.max_position_embeddings - 1  # one position is the [CLS] token's
        if precision == "int8":
            self.bert = torch.ao.quantization.quantize_dynamic(self.bert, {torch.nn.Linear}, dtype=torch.qint8)

    def pieces(self, text: str) -> list[str]:
        return restore_unknown(text, self.tokenizer.tokenize(text))

    def logits(self, batch: list[list[str]]) -> torch.Tensor:
        """(N, T, labels) scores of the pieces of each text, padded to the longest; texts longer
        than BERT's positions are scored in consecutive windows."""
        import torch

        lengths = torch.tensor([len(p) for p in batch])
        ids = torch.full((len(batch), int(lengths.max())), self.pad_id, dtype=torch.long)
        for i, pieces in enumerate(batch):
            ids[i, : len(pieces)] = torch.tensor([self.input_ids.get(p, self.unk_id) for p in pieces], dtype=torch.long)
        scores, left = [], lengths
        with torch.no_grad():
            for window in ids.split(self.max_input, dim=1):
                n = torch.clamp(left, min=0, max=self.max_input)
                left = left - n
                scores.append(self._score(window, n))
        return torch.cat(scores, dim=1)

    def _score(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        import torch

        cls = torch.full((ids.size(0), 1), self.cls_id, dtype=torch.long)
        ids = torch.cat([cls, ids], dim=1)  # (N, 1 + T)
        mask = (torch.arange(ids.size(1))[None, :] < (lengths + 1)[:, None]).float()
        hidden = self.bert(ids, mask)[0][:, 1:]  # (N, T, hidden), [CLS] dropped
        return self.classifier(hidden)

    def punctuate(self, texts: list[str]) -> list[str]:
        """Punctuated, cased text of each text (one batch)."""
        batch = [self.pieces(t) for t in texts]
        ids = self.logits(batch).argmax(dim=-1)
        return [fix_text(join_pieces(p, [self.labels[k] for k in ids[i, : len(p)].tolist()])) for i, p in enumerate(batch)]

    def word_marks(self, batch: list[list[str]], max_length: int) -> list[list[str]]:
        """The mark after each word of each word list (its last piece's label; NO_MARK for none)."""
        pieces = [[self.pieces(w) for w in words] for words in batch]
        flat = [[p for ps in word_pieces for p in ps] for word_pieces in pieces]
        scores = self.logits(flat)
        longest = max(len(f) for f in flat)
        out = []
        for i, (word_pieces, f) in enumerate(zip(pieces, flat)):
            if max_length > 0 and longest > max_length:
                ids = limited_labels(scores[i, : len(f)].softmax(dim=-1), f, max_length)
            else:
                ids = scores[i, : len(f)].argmax(dim=-1).tolist()
            ends = accumulate(len(ps) for ps in word_pieces)  # one past each word's last piece
            out.append([self.labels[ids[e - 1]] if ps else NO_MARK for ps, e in zip(word_pieces, ends)])
        return out

    def punctuate_words(self, batch: list[list[tuple[str, float, float]]], max_length: int = -1) -> list[list[tuple[str, float, float]]]:
        """Sentences (text, start, end) of each list of timed words: a sentence ends at a word
        followed by a mark; ``max_length`` > 0 keeps sentences within that many characters."""
        out = []
        for words, labels in zip(batch, self.word_marks([[w for w, _, _ in ws] for ws in batch], max_length)):
            sentences, text, start, last, last_label = [], "", None, "", ""
            for (word, a, b), label in zip(words, labels):
                token = "".join(p.replace("##", "", 1) if p.startswith("##") else p for p in self.pieces(word))
                start = a if start is None else start
                if LATIN.search(token) and LATIN.search(last) and last_label == NO_MARK:
                    token = " " + token
                text += token if label == NO_MARK else token + label
                if label != NO_MARK:
                    sentences.append((fix_text(text.replace("  ", " ")), start, b))
                    text, start = "", None
                last, last_label = token, label
            if text:
                sentences.append((fix_text(text), start, words[-1][2]))
            out.append(sentences)
        return out
