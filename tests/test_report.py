"""Accuracy against sample-sheet references, and Snakemake's report with firescribe's figures.

A sample sheet lists two synthesized English talks with their reference transcripts, and one
broken file; the whole workflow runs with the real tiny.en model.
"""

from __future__ import annotations

import shutil
import subprocess

import jiwer
import numpy as np
import pandas as pd
import pytest
from matplotlib import image
from support import media
from support.workflow import shard_of, snakemake

from firescribe.text.accuracy import tokens

pytestmark = pytest.mark.media_tools  # makes media with espeak-ng, sox, ffmpeg

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    rows = ["sample\tpath\treference"]
    for name, sentences in (("first", media.SENTENCES[:4]), ("second", media.SENTENCES[6:10])):
        wav = root / f"{name}.wav"
        media.speech_track(sentences, [0.7] * len(sentences), wav)
        media.to_mp4_aac(wav, root / f"{name}.mp4")
        (root / f"{name}.ref.txt").write_text(" ".join(sentences) + "\n")
        rows.append(f"{name}\t{name}.mp4\t{name}.ref.txt")
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    rows.append("broken\tbroken.mp4\t")
    sheet = root / "samples.tsv"
    sheet.write_text("\n".join(rows) + "\n")
    work = root / "run"
    work.mkdir()
    snakemake(work, config={"input": sheet})
    return {"root": root, "work": work, "results": work / "results"}


def test_corpus_table_scores_each_file_against_its_reference(run):
    table = pd.read_csv(run["results"] / "corpus.tsv", sep="\t").set_index("sample")
    for name in ("first", "second"):
        row = table.loc[name]
        ref = (run["root"] / f"{name}.ref.txt").read_text()
        hyp = (run["results"] / "transcripts" / f"{name}.txt").read_text()
        expect = jiwer.process_words(" ".join(tokens(ref)), " ".join(tokens(hyp)))
        assert row["metric"] == "wer"
        assert row["ref_tokens"] == len(tokens(ref))
        assert (row["substitutions"], row["deletions"], row["insertions"]) == (expect.substitutions, expect.deletions, expect.insertions)
        assert row["error_rate"] == pytest.approx(expect.wer, abs=1e-4)
        assert row["error_rate"] < 0.25, (name, hyp)  # tiny.en on espeak-ng speech: measured 0.03-0.12
    assert table.loc["broken", "status"] == "failed" and pd.isna(table.loc["broken", "metric"])
    log = (run["results"] / "logs" / "corpus.log").read_text()
    assert "WER" in log and "reference tokens" in log


def test_report_figures_and_file_table(run):
    rep = run["results"] / "report"
    for name in ("timeline", "units", "rtf", "stages"):
        img = image.imread(rep / f"{name}.png")
        assert img.shape[0] > 150 and img.shape[1] > 300, name
        assert np.std(img[..., :3]) > 0.05, f"{name}.png is blank"
    page = (rep / "files.html").read_text()
    assert "Corpus WER" in page and "Failures" in page and "broken" in page
    assert page.count("<tr") == 1 + 3  # header + one row per file


def test_snakemake_report_renders_in_headless_chromium(run, tmp_path):
    snakemake(run["work"], "--report", "report.html", config={"input": run["root"] / "samples.tsv"})
    html = (run["work"] / "report.html").read_text()
    assert all(part in html for part in ("timeline.png", "stages.png", "files.html", "the same as Parquet"))
    if CHROMIUM is None:
        pytest.skip("chromium not installed (Debian: apt-get install chromium); report built but not rendered")
    shots = {}
    for name, page in (("report", run["work"] / "report.html"), ("files", run["results"] / "report" / "files.html")):
        shot = tmp_path / f"{name}.png"
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
             "--window-size=1400,1000", "--virtual-time-budget=5000", f"--screenshot={shot}", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
        shots[name] = image.imread(shot)
        # a page that failed to render is one flat colour
        assert np.std(shots[name][..., :3]) > 0.02, f"{name} rendered blank"


def test_asr_jobs_log_their_progress(run):
    import re

    logs = sorted((run["results"] / "logs" / "asr" / shard_of(run["results"], "first")).glob("*.log"))
    assert logs
    for log in logs:
        steps = re.findall(r"inputs (\d+)/(\d+), audio ([\d.]+)/([\d.]+) s, elapsed ([\d.]+) s", log.read_text())
        assert steps, log.read_text()
        done, total, audio_done, audio_total, _ = steps[-1]
        assert done == total and audio_done == audio_total
