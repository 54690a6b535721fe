"""The corpus table: one row per input, whatever happened to it."""

from __future__ import annotations

import logging

import pandas as pd

from firescribe.io import atomic_path, read_json

log = logging.getLogger(__name__)

COLUMNS = ["sample", "path", "status", "reason", "duration_s", "speech_s", "n_segments", "n_chars", "warnings"]


def corpus_table(transcript_jsons: list[str]) -> pd.DataFrame:
    rows = []
    for path in transcript_jsons:
        d = read_json(path)
        rows.append(
            {
                "sample": d["sample"],
                "path": d["source"],
                "status": d["status"],
                "reason": d["reason"],
                "duration_s": d["duration"],
                "speech_s": d["speech_seconds"],
                "n_segments": len(d["segments"]),
                "n_chars": len(d["text"]),
                "warnings": "; ".join(d["warnings"]),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS).sort_values("sample").reset_index(drop=True)


def write_corpus(table: pd.DataFrame, tsv: str, parquet: str) -> None:
    with atomic_path(tsv) as tmp:
        table.to_csv(tmp, sep="\t", index=False, lineterminator="\n")
    with atomic_path(parquet) as tmp:
        table.to_parquet(tmp, index=False)


def summary(table: pd.DataFrame) -> str:
    counts = table["status"].value_counts().to_dict()
    lines = [
        f"firescribe: {len(table)} inputs: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("ok", "empty", "failed"))
        + f"; {table['duration_s'].sum():.1f} s audio, {table['speech_s'].sum():.1f} s speech"
    ]
    for _, r in table[table["status"] == "failed"].iterrows():
        lines.append(f"  FAILED {r['path']}: {r['reason']}")
    return "\n".join(lines)


class CorpusFailures(RuntimeError):
    """Raised in strict mode when inputs failed; the message lists each file and reason."""


def check_strict(table: pd.DataFrame) -> None:
    failed = table[table["status"] == "failed"]
    if len(failed):
        lines = [f"{r['path']}: {r['reason']}" for _, r in failed.iterrows()]
        raise CorpusFailures(f"strict: {len(failed)} input(s) failed:\n" + "\n".join(lines))
