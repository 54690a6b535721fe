"""Figures and a per-file table for Snakemake's report (``snakemake --report report.html``).

Everything is read from files the workflow already wrote: the corpus table, each file's VAD
segments and plan, and Snakemake's own benchmark files (wall seconds per job), so the
report costs no model time. Figures are matplotlib PNGs.
"""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: no display on a cluster node or in CI
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from firescribe.plumbing.io import atomic_path, read_json, write_text  # noqa: E402
from firescribe.plumbing.segments import read_segments  # noqa: E402
from firescribe.steps.corpus import corpus_scores, plural  # noqa: E402
from firescribe.steps.extract import STATUS_EMPTY, STATUS_FAILED, STATUS_OK, STATUSES  # noqa: E402
from firescribe.steps.plan import input_seconds, input_spans, plan_units, unit_seconds  # noqa: E402

STAGES = ["extract", "vad", "plan", "model_info", "prepare_model", "asr", "merge", "corpus"]
STATUS_COLOURS = {STATUS_OK: "#2b8a3e", STATUS_EMPTY: "#868e96", STATUS_FAILED: "#c92a2a"}


def stage_seconds(benchmark_dir: str | Path) -> pd.DataFrame:
    """Wall seconds per stage, summed over its jobs' benchmark files: columns stage, jobs, seconds, share."""
    root = Path(benchmark_dir)
    rows = []
    for f in sorted(root.rglob("*.tsv")):
        stage = f.relative_to(root).parts[0].removesuffix(".tsv")
        if stage in STAGES:
            rows.append({"stage": stage, "seconds": float(pd.read_csv(f, sep="\t")["s"].sum())})
    df = pd.DataFrame(rows, columns=["stage", "seconds"])
    df = df.groupby("stage", sort=False).agg(jobs=("seconds", "size"), seconds=("seconds", "sum")).reset_index()
    df["stage"] = pd.Categorical(df["stage"], STAGES, ordered=True)
    df = df.sort_values("stage").reset_index(drop=True)
    df["share"] = df["seconds"] / df["seconds"].sum() if len(df) else []
    return df


def asr_seconds(benchmark_dir: str | Path, plan_jsons: list[str]) -> dict[str, float]:
    """ASR wall seconds per file. A chunk job that decodes several files is shared among
    them by their seconds of audio in it, so a file's figure is the ASR time it cost."""
    seconds: dict[str, float] = {}
    for path in plan_jsons:
        plan = read_json(path)
        shard = Path(path).stem
        for c, inputs in enumerate(plan["chunks"]):
            bench = Path(benchmark_dir) / "asr" / shard / f"{c:04d}.tsv"
            if not bench.exists():
                continue
            wall = float(pd.read_csv(bench, sep="\t")["s"].sum())
            audio: dict[str, float] = {}
            for i in inputs:
                for sample, a, b in input_spans(plan, plan["inputs"][i]):
                    audio[sample] = audio.get(sample, 0.0) + b - a
            total = sum(input_seconds(plan, plan["inputs"][i]) for i in inputs)
            for sample, s in audio.items():
                seconds[sample] = seconds.get(sample, 0.0) + wall * s / max(total, 1e-9)
    return seconds


def file_table(corpus: pd.DataFrame, benchmark_dir: str | Path, plan_jsons: list[str]) -> pd.DataFrame:
    """The corpus table plus speech ratio, ASR seconds and real-time factor per file."""
    df = corpus.copy()
    df["speech_ratio"] = (df["speech_s"] / df["duration_s"].where(df["duration_s"] > 0)).round(3)
    asr = asr_seconds(benchmark_dir, plan_jsons)
    df["asr_s"] = [round(asr.get(s, 0.0), 2) for s in df["sample"]]
    df["rtf"] = (df["asr_s"] / df["duration_s"].where(df["duration_s"] > 0)).round(4)
    return df


def _save(fig, path: str) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)


def plot_timeline(corpus: pd.DataFrame, speech: dict[str, list], path: str, max_files: int = 60):
    """Speech (bars) and silence (gaps) over time, one row per file; failed files labelled."""
    rows = corpus.sort_values("sample").head(max_files)
    fig, ax = plt.subplots(figsize=(10, 0.9 + 0.35 * max(1, len(rows))))
    for y, r in enumerate(rows.itertuples()):
        ax.broken_barh([(0, r.duration_s or 0)], (y - 0.4, 0.8), color="#e9ecef")
        segs = speech.get(r.sample, [])
        ax.broken_barh([(a, b - a) for a, b in segs], (y - 0.4, 0.8), color=STATUS_COLOURS.get(r.status, "#1c7ed6"))
        if r.status == STATUS_FAILED:
            ax.text(0, y, f"  failed: {r.reason[:80]}", va="center", fontsize=8, color=STATUS_COLOURS[STATUS_FAILED])
    ax.set_yticks(range(len(rows)), rows["sample"], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time in the media (s)")
    title = "Speech (coloured) and silence (grey) per file"
    ax.set_title(title if len(corpus) <= max_files else f"{title}: first {max_files} of {len(corpus)} files")
    _save(fig, path)
    return fig


def plot_unit_lengths(plan_jsons: list[str], path: str):
    """Histogram of ASR unit lengths over the corpus."""
    lengths = [unit_seconds(u) for plan in map(read_json, plan_jsons) for sample in plan["samples"] for u in plan_units(plan, sample)]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(lengths, bins=min(40, max(5, len(lengths) // 3 or 1)), color="#1c7ed6")
    ax.set_xlabel("unit length (s)")
    ax.set_ylabel("units")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # a count: whole ticks only
    ax.set_title(f"{plural(len(lengths), 'ASR unit')}, {sum(lengths):.0f} s of audio")
    _save(fig, path)
    return fig


def plot_rtf(files: pd.DataFrame, path: str):
    """ASR real-time factor per file (ASR wall seconds / media seconds; lower is faster)."""
    rows = files[files["rtf"].notna() & (files["asr_s"] > 0)].sort_values("sample")
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.3 * max(1, len(rows))))
    ax.barh(rows["sample"], rows["rtf"], color=[STATUS_COLOURS.get(s, "#1c7ed6") for s in rows["status"]])
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel("real-time factor (ASR wall time / media duration; a job serving several files shared by audio)")
    ax.set_title("ASR speed per file")
    _save(fig, path)
    return fig


def plot_stage_shares(stages: pd.DataFrame, path: str):
    """Share of the summed job wall time per pipeline stage, on an axis of 0-100%; a bar's
    label sits after it, or inside it where the bar is too long to leave room."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.barh(stages["stage"].astype(str), 100 * stages["share"], color="#5f3dc4")
    for y, (share, sec) in enumerate(zip(stages["share"], stages["seconds"])):
        label = f"{100 * share:.1f}% ({sec:.1f} s)"
        if share > 0.7:
            ax.text(100 * share - 1, y, label, va="center", ha="right", fontsize=8, color="white")
        else:
            ax.text(100 * share + 1, y, label, va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel("% of summed job wall time")
    ax.set_title("Where the time goes")
    _save(fig, path)
    return fig


def redecode_text(how: dict | None) -> str:
    """How a guarded unit was re-decoded (firescribe.text.guard.guard_unit), in words."""
    if how is None:
        return ""
    if not how["sampled"]:
        return "not sampled"
    return f"sampled at {', '.join(map(str, how['temperatures']))} (seed {how['seed']})"


def guarded_table(transcript_jsons: list[str]) -> pd.DataFrame:
    """One row per unit the guard tripped on, over all files (firescribe.text.guard)."""
    rows = [
        {"sample": doc["sample"], "start": g["start"], "end": g["end"], "tripped": ", ".join(g["tripped"]),
         "after re-decode": ", ".join(g["tripped_after"]) or "nothing", "actions": ", ".join(g["actions"]),
         "re-decode": redecode_text(g.get("redecode")), "held back": g.get("held_back", "")}
        for doc in map(read_json, transcript_jsons)
        for g in doc["guarded_units"]
    ]
    return pd.DataFrame(rows, columns=["sample", "start", "end", "tripped", "after re-decode", "actions", "re-decode", "held back"])


def files_html(files: pd.DataFrame, scores: dict, path: str, guarded: pd.DataFrame) -> None:
    """Per-file table (status, duration, speech ratio, segments, RTF, accuracy, reason) as HTML,
    and the units the guard tripped on."""
    cols = ["sample", "status", "duration_s", "speech_ratio", "n_segments", "guarded_units", "rtf", "metric", "error_rate", "substitutions", "deletions", "insertions", "reason"]
    shown = files[cols].astype(object).where(files[cols].notna(), "")  # blank, not <NA>
    body = shown.to_html(index=False, float_format=lambda x: f"{x:.3f}", border=0, classes="files")
    failed = files[files["status"] == STATUS_FAILED]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>firescribe: files</title>",
        "<style>body{font-family:sans-serif;font-size:13px} table.files{border-collapse:collapse}"
        " table.files td,table.files th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}</style></head><body>",
        f"<h3>{plural(len(files), 'file')}: " + ", ".join(f"{(files['status'] == s).sum()} {s}" for s in STATUSES) + "</h3>",
    ]
    for metric, sc in scores.items():
        parts.append(
            f"<p>Corpus {metric.upper()}: <b>{100 * sc.error_rate:.2f}%</b> over {sc.ref_tokens} reference tokens "
            f"(substitutions {sc.substitutions}, deletions {sc.deletions}, insertions {sc.insertions})</p>"
        )
    if len(failed):
        parts.append("<h4>Failures</h4><ul>")
        parts += [f"<li><b>{html.escape(r.sample)}</b> ({html.escape(r.path)}): {html.escape(r.reason)}</li>" for r in failed.itertuples()]
        parts.append("</ul>")
    parts.append(body)
    parts.append(f"<h4>Guarded units: {len(guarded)}</h4>")
    if len(guarded):
        parts.append("<p>Units whose text tripped the guard (repetition, compression, rate, no_speech), what a "
                     "re-decode left, and what was done (docs/guard.md).</p>")
        parts.append(guarded.to_html(index=False, float_format=lambda x: f"{x:.2f}", border=0, classes="files"))
    parts.append("</body></html>")
    write_text(path, "\n".join(parts) + "\n")


def run_report(
    corpus_parquet: str, vad_tsvs: list[str], plan_jsons: list[str], transcript_jsons: list[str], benchmark_dir: str, out: dict[str, str]
) -> None:
    corpus = pd.read_parquet(corpus_parquet)
    files = file_table(corpus, benchmark_dir, plan_jsons)
    plot_timeline(files, {s: segs for tsv in vad_tsvs for s, segs in read_segments(tsv).items()}, out["timeline"])
    plot_unit_lengths(plan_jsons, out["units"])
    plot_rtf(files, out["rtf"])
    plot_stage_shares(stage_seconds(benchmark_dir), out["stages"])
    files_html(files, corpus_scores(corpus), out["files"], guarded_table(transcript_jsons))
