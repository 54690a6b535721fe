"""The corpus table: one row per input, whatever happened to it."""

from __future__ import annotations

import logging

import pandas as pd

from firescribe.plumbing.io import atomic_path, read_json
from firescribe.steps.extract import STATUS_FAILED, STATUSES, AudioTrack
from firescribe.text.accuracy import Score, score, total

log = logging.getLogger(__name__)

COLUMNS = [
    "sample", "path", "status", "reason", "duration_s", "speech_s", "n_segments", "n_chars", "guarded_units", "held_back", "warnings",
    "audio_tracks", "audio_used", "audio_offset_s",
]  # fmt: skip
# filled where the sample sheet gives a reference transcript (see firescribe.text.accuracy)
ACCURACY_COLUMNS = ["metric", "ref_tokens", "substitutions", "deletions", "insertions", "errors", "error_rate"]


def audio_columns(audio: dict) -> dict:
    """The file's audio tracks (``a:1 eng aac 2ch default; ...``), the one transcribed
    (``a:1``; ``a:0 channel 2 of 2`` where one channel was; ``a:0 channels 1-2 apart``), and where it starts on the
    media's timeline (firescribe.steps.merge.audio_used; empty for transcripts older than it)."""
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
            "n_segments": sum(1 for s in d["segments"] if "held_back" not in s),  # cues of text, not markers
            "n_chars": len(d["text"]),
            "guarded_units": len(d["guarded_units"]),
            "held_back": sum(1 for g in d["guarded_units"] if "held_back" in g),  # shown as a marker
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
