"""Checksums of model files, recorded in every transcript's provenance."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: str | Path, block: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def dir_checksum(path: str | Path, names: list[str] | None = None) -> str:
    """sha256 over (name, sha256) of the given files (default: all files) of a model folder."""
    root = Path(path)
    files = sorted(root / n for n in names) if names else sorted(p for p in root.rglob("*") if p.is_file())
    h = hashlib.sha256()
    for p in files:
        h.update(str(p.relative_to(root)).encode())
        h.update(file_sha256(p).encode())
    return h.hexdigest()
