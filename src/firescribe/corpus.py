"""The corpus table: one row per input, whatever happened to it."""

from __future__ import annotations

import atexit
import datetime
import logging
import os
import sys
import time

import pandas as pd

from firescribe.accuracy import Score, score, total
from firescribe.audio import STATUS_FAILED, STATUSES, AudioTrack
from firescribe.io import atomic_path, read_json

log = logging.getLogger(__name__)

COLUMNS = [
    "sample", "path", "status", "reason", "duration_s", "speech_s", "n_segments", "n_chars", "guarded_units", "warnings",
    "audio_tracks", "audio_used", "audio_offset_s",
]  # fmt: skip
# filled where the sample sheet gives a reference transcript (see firescribe.accuracy)
ACCURACY_COLUMNS = ["metric", "ref_tokens", "substitutions", "deletions", "insertions", "errors", "error_rate"]


def audio_columns(audio: dict) -> dict:
    """The file's audio tracks (``a:1 eng aac 2ch default; ...``), the one transcribed
    (``a:1``; ``a:0 channel 2 of 2`` where one channel was; ``a:0 channels 1-2 apart``), and where it starts on the
    media's timeline (firescribe.merge.audio_used; empty for transcripts older than it)."""
    tracks = [AudioTrack(**t) for t in audio.get("tracks", [])]
    used = ""
    if audio.get("track") is not None:
        used = f"a:{audio['track']}"
        if audio.get("channel") is not None:
            used += f" channel {audio['channel'] + 1} of {tracks[audio['track']].channels}"
        elif audio.get("apart") and "channels" in audio["apart"]:
            used += f" channels 1-{audio['apart']['channels']} apart"
        elif audio.get("apart"):
            used += " (and every track apart: .track<n>. transcripts)"
    return {"audio_tracks": "; ".join(t.label() for t in tracks), "audio_used": used, "audio_offset_s": audio.get("offset", 0.0)}


def corpus_table(transcript_jsons: list[str], references: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per input; ``references`` maps sample -> reference transcript file. A file
    that failed to decode is not scored (its failure is in status/reason)."""
    references = references or {}
    rows = []
    for path in transcript_jsons:
        d = read_json(path)
        row = {
            "sample": d["sample"],
            "path": d["source"],
            "status": d["status"],
            "reason": d["reason"],
            "duration_s": d["duration"],
            "speech_s": d["speech_seconds"],
            "n_segments": len(d["segments"]),
            "n_chars": len(d["text"]),
            "guarded_units": len(d["guarded_units"]),
            "warnings": "; ".join(d["warnings"]),
            **audio_columns(d.get("audio", {})),
        }
        ref = references.get(d["sample"])
        if ref and d["status"] != STATUS_FAILED:
            with open(ref, encoding="utf-8") as f:
                row.update(score(f.read(), d["text"]).row())
        rows.append(row)
    table = pd.DataFrame(rows, columns=COLUMNS + ACCURACY_COLUMNS).sort_values("sample").reset_index(drop=True)
    for col in ACCURACY_COLUMNS[1:-1]:
        table[col] = table[col].astype("Int64")
    table["metric"] = table["metric"].astype("string")
    table["error_rate"] = table["error_rate"].astype("Float64")
    return table


def corpus_scores(table: pd.DataFrame) -> dict[str, Score]:
    """Corpus WER and/or CER: errors over reference tokens, summed over the scored files."""
    out = {}
    for metric, rows in table.dropna(subset=["metric"]).groupby("metric"):
        counts = rows[["ref_tokens", "substitutions", "deletions", "insertions"]].astype(int)
        out[metric] = total([Score(metric, *r) for r in counts.itertuples(index=False)])
    return out


def write_corpus(table: pd.DataFrame, tsv: str, parquet: str) -> None:
    with atomic_path(tsv) as tmp:
        table.to_csv(tmp, sep="\t", index=False, lineterminator="\n")
    with atomic_path(parquet) as tmp:
        table.to_parquet(tmp, index=False)


def plural(n: int, word: str) -> str:
    """``1 file``, ``2 files``, ``0 files``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(table: pd.DataFrame) -> str:
    """Counts by status, audio and speech seconds, the corpus error rates (where references
    were given), then each failed file with its reason."""
    counts = table["status"].value_counts().to_dict()
    lines = [
        f"firescribe: {plural(len(table), 'input')}: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES)
        + f"; {table['duration_s'].sum():.1f} s audio, {table['speech_s'].sum():.1f} s speech"
    ]
    for metric, sc in corpus_scores(table).items():
        lines.append(
            f"  {metric.upper()} {100 * sc.error_rate:.2f}% over {sc.ref_tokens} reference tokens "
            f"(sub {sc.substitutions}, del {sc.deletions}, ins {sc.insertions})"
        )
    for _, r in table[table["status"] == STATUS_FAILED].iterrows():
        lines.append(f"  FAILED {r['path']}: {r['reason']}")
    return "\n".join(lines)


# what the run's last lines say, from the corpus table (the Snakefile's onsuccess/onerror)
_RUN = {"started": None}


def mark_run_start() -> None:
    """Remember when the run started (the Snakefile's onstart), so that the summary at its
    end can tell a corpus table this run wrote from one an earlier run left."""
    _RUN["started"] = time.time()


def run_summary(tsv: str) -> str:
    """The summary of the corpus table ``tsv`` for the end of a run; if an earlier run wrote
    it, saying so; if there is none, that the run stopped before it (its errors are above)."""
    if not os.path.exists(tsv):
        return (
            f"firescribe: the run stopped before the corpus table ({tsv}) was written: "
            "the failed jobs are listed above, their logs are under results/logs/"
        )
    table = pd.read_csv(tsv, sep="\t")
    table["reason"] = table["reason"].fillna("")
    text = summary(table)
    written = os.path.getmtime(tsv)
    if _RUN["started"] is not None and written < _RUN["started"]:
        when = datetime.datetime.fromtimestamp(written).strftime("%Y-%m-%d %H:%M:%S")
        text = f"firescribe: {tsv} was written by an earlier run ({when}); this run did not write it:\n{text}"
    return text


def print_at_exit(text: str) -> None:
    """Print ``text`` to stderr when the process exits: after Snakemake's own last lines
    (its log's path, the elapsed time, its error), so that it is the run's last output."""
    atexit.register(lambda: print(text, file=sys.stderr, flush=True))


class CorpusFailures(RuntimeError):
    """Raised in strict mode when inputs failed; the message lists each file and reason."""


def check_strict(table: pd.DataFrame) -> None:
    """With strict: true, the run fails if any input failed; either way the log says."""
    import logging

    failed = table[table["status"] == STATUS_FAILED]
    if len(failed):
        lines = [f"{r['path']}: {r['reason']}" for _, r in failed.iterrows()]
        message = f"strict: {plural(len(failed), 'input')} failed:\n" + "\n".join(lines)
        logging.getLogger(__name__).error("%s", message)
        raise CorpusFailures(message)
    logging.getLogger(__name__).info("strict: %s, none failed", plural(len(table), "input"))
