"""Token ids <-> text with the model's ``dict.txt`` (one token per line: ``token [id]``) and,
for English, its SentencePiece model (``train_bpe1000.model``).

Chinese characters are tokens; English words are SentencePiece pieces whose word starts
carry '▁'. ``<space>`` stands for ' '. Detokenizing joins tokens and turns '▁' into spaces.
"""

from __future__ import annotations

import re
from pathlib import Path

import sentencepiece

from firescribe.engines.fireredasr.errors import ModelFileError

SPM_SPACE = "\u2581"
# the characters that are one token each (the rest of the text goes through SentencePiece)
CJK_CHAR = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff])")
# punctuation the training text had replaced by spaces
PUNCTUATION = re.compile(r"[，。？！,.?!]")


class TokenDict:
    def __init__(self, path: str | Path):
        self.path = str(path)
        self.id2token: list[str] = []
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f):
                parts = line.strip().split()
                if len(parts) >= 2:
                    token, index = parts[0], parts[1]
                    if not index.lstrip("-").isdigit() or int(index) != i:
                        raise ModelFileError(path, f"line {i + 1}: expected id {i}, got {index!r}")
                elif len(parts) == 1:
                    token = parts[0]
                else:
                    token = " "
                self.id2token.append(" " if token == "<space>" else token)

    def __len__(self) -> int:
        return len(self.id2token)

    def tokens(self, ids: list[int]) -> list[str]:
        return [self.id2token[i] for i in ids]

    def detokenize(self, ids: list[int]) -> str:
        return "".join(self.tokens(ids)).replace(SPM_SPACE, " ").strip()


class TextTokenizer:
    """Text -> tokens as FireRedASR's training tokenizer splits it (the official
    ``ChineseCharEnglishSpmTokenizer``): upper case, punctuation as spaces, each Chinese
    character a token, other text SentencePiece pieces. Used for hotwords."""

    def __init__(self, tokens: TokenDict, spm_model: str | Path | None):
        self.ids = {token: i for i, token in enumerate(tokens.id2token)}
        self.sp = None
        if spm_model and Path(spm_model).is_file() and Path(spm_model).stat().st_size > 0:
            self.sp = sentencepiece.SentencePieceProcessor(model_file=str(spm_model))

    def tokenize(self, text: str) -> list[str]:
        parts = [p for p in CJK_CHAR.split(PUNCTUATION.sub(" ", text.upper()).strip()) if p.strip()]
        tokens: list[str] = []
        for part in parts:
            if CJK_CHAR.fullmatch(part):
                tokens.append(part)
            elif self.sp is not None:
                tokens += self.sp.encode(part.strip(), out_type=str)
            else:
                tokens += list(part.strip())
        return tokens

    def encode(self, text: str) -> list[int] | None:
        """Token ids of ``text``; None if a token is not in the vocabulary."""
        ids = [self.ids.get(t) for t in self.tokenize(text)]
        return None if None in ids else ids
