"""Do hotwords help on your data? Hotword recall, false alarms and WER/CER with and without them.

What hotwords gain depends on the trained model and the corpus, which this project cannot
download or hold: measure it on a sample sheet of your own with reference transcripts
(columns sample, path, reference; a hotwords column with per-file lists is used too).

    python benchmarks/hotword_recall.py --samples my/samples.tsv --hotwords my/hotwords.txt \
        --out hotword-check --configfile my/config.yaml --cores all

The workflow runs twice with your config (OUT/without: no hotwords at all; OUT/with: the
list given and the sheet's per-file lists), then this prints and writes OUT/hotword_recall.tsv:
per run, how many occurrences of the hotwords in the references the transcripts hold
(recall), how many they add beyond the references (false alarms), and the error rate (WER
for English, CER for Chinese; firescribe.text.accuracy).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]

from firescribe.plumbing.samples import SAMPLE_COLUMNS, read_sample_sheet  # noqa: E402
from firescribe.text.accuracy import hotword_score, score, total  # noqa: E402
from firescribe.text.hotwords import combine, read_hotwords  # noqa: E402


def run_workflow(work: Path, sheet: pd.DataFrame, hotwords: str | None, configfiles: list[str], cores: str) -> None:
    work.mkdir(parents=True, exist_ok=True)
    sheet[[c for c in SAMPLE_COLUMNS if c in sheet.columns]].to_csv(work / "samples.tsv", sep="\t", index=False)
    (work / "run-config.yaml").write_text(yaml.safe_dump({"input": str(work / "samples.tsv"), "hotwords": hotwords}), encoding="utf-8")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(work), "--cores", cores]
    cmd += ["--configfile", str(ROOT / "config" / "config.yaml"), *configfiles, str(work / "run-config.yaml")]
    print("running:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", required=True, help="sample sheet with a reference column (and optionally hotwords)")
    ap.add_argument("--hotwords", help="hotword list for every file (besides the sheet's per-file lists)")
    ap.add_argument("--out", required=True, help="folder for the two runs and the table")
    ap.add_argument("--configfile", nargs="*", default=[], help="your config file(s), applied after config/config.yaml")
    ap.add_argument("--cores", default="all")
    args = ap.parse_args()

    sheet = read_sample_sheet(args.samples)
    sheet = sheet[sheet["reference"].notna()]
    # the copies of the sheet live in other folders: their file paths absolute
    for column in ("path", "reference", "hotwords"):
        sheet[column] = [str(Path(p).resolve()) if isinstance(p, str) else p for p in sheet[column]]
    if sheet.empty:
        sys.exit(f"{args.samples}: no sample has a reference transcript")
    corpus = str(Path(args.hotwords).resolve()) if args.hotwords else None
    out = Path(args.out).resolve()
    run_workflow(out / "without", sheet.drop(columns=["hotwords"]), None, args.configfile, args.cores)
    run_workflow(out / "with", sheet, corpus, args.configfile, args.cores)

    # per file, its reference and its hotwords (the corpus's and its own): both runs count the same
    corpus_words = read_hotwords(corpus) if corpus else []
    files = {
        sample: (
            Path(row["reference"]).read_text(encoding="utf-8"),
            [h.text for h in combine(corpus_words, read_hotwords(row["hotwords"]) if isinstance(row["hotwords"], str) else [])],
        )
        for sample, row in sheet.iterrows()
    }
    rows = []
    for name in ("without", "with"):
        pairs, scores = [], []
        for sample, (reference, hotwords) in files.items():
            transcript = (out / name / "results" / "transcripts" / f"{sample}.txt").read_text(encoding="utf-8")
            pairs.append((reference, transcript, hotwords))
            scores.append(score(reference, transcript))
        hot = hotword_score(pairs)
        by_metric = {m: total([s for s in scores if s.metric == m]) for m in sorted({s.metric for s in scores})}
        rows.append(
            {
                "run": name,
                "hotwords_in_references": hot.in_reference,
                "found": hot.found,
                "recall": None if hot.recall is None else round(hot.recall, 4),
                "false_alarms": hot.false_alarms,
                **{m: round(s.error_rate, 4) for m, s in by_metric.items()},
            }
        )
    table = pd.DataFrame(rows)
    table.to_csv(out / "hotword_recall.tsv", sep="\t", index=False)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
