"""Token ids -> text with the model's ``dict.txt`` (one token per line: ``token [id]``).

Chinese characters are tokens; English words are SentencePiece pieces whose word starts
carry '▁'. ``<space>`` stands for ' '. Detokenizing joins tokens and turns '▁' into spaces.
"""

from __future__ import annotations

from pathlib import Path

from firescribe.fireredasr.errors import ModelFileError

SPM_SPACE = "\u2581"


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
