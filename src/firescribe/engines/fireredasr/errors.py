from __future__ import annotations

from pathlib import Path


class ModelFileError(ValueError):
    """A model file that is missing or malformed; the message names the file and the problem."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        super().__init__(f"{path}: {problem}")
