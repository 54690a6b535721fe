"""What the report's figures and table say for small corpora: words in the singular for one,
whole ticks on count axes, shares on an axis that ends at 100%."""

from __future__ import annotations

import json

import pandas as pd

from firescribe.steps.corpus import plural, summary
from firescribe.steps.report import files_html, plot_stage_shares, plot_unit_lengths


def write_plan(path, units: list[list[list[float]]]):
    path.write_text(json.dumps({"chunks": [[0]], "inputs": [[["a", 0]]], "samples": {"a": {"units": units}}}))
    return str(path)


def test_plural():
    assert [plural(n, "file") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]


def test_one_unit_is_one_unit_on_whole_ticks(tmp_path):
    plan = write_plan(tmp_path / "a.json", [[[0.0, 8.1], [8.8, 15.5]]])
    fig = plot_unit_lengths([plan], str(tmp_path / "units.png"))
    ax = fig.axes[0]
    assert ax.get_title() == "1 ASR unit, 15 s of audio"
    lo, hi = ax.get_ylim()
    ticks = [t for t in ax.get_yticks() if lo <= t <= hi]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert (tmp_path / "units.png").stat().st_size > 0
    three = write_plan(tmp_path / "b.json", [[[0.0, 3.0]], [[4.0, 9.0]], [[10.0, 30.0]]])
    assert plot_unit_lengths([three], str(tmp_path / "u3.png")).axes[0].get_title() == "3 ASR units, 28 s of audio"


def test_stage_shares_end_at_100_percent_with_every_label_inside(tmp_path):
    stages = pd.DataFrame({"stage": ["extract", "asr", "merge"], "seconds": [1.0, 97.0, 2.0]})
    stages["share"] = stages["seconds"] / stages["seconds"].sum()
    fig = plot_stage_shares(stages, str(tmp_path / "stages.png"))
    ax = fig.axes[0]
    assert ax.get_xlim() == (0.0, 100.0)
    assert max(ax.get_xticks()) <= 100
    labels = {t.get_text(): t.get_position()[0] for t in ax.texts}
    assert set(labels) == {"1.0% (1.0 s)", "97.0% (97.0 s)", "2.0% (2.0 s)"}
    assert all(0 < x < 100 for x in labels.values())
    # the long bar's label sits inside it, ending at its end
    inside = next(t for t in ax.texts if t.get_text().startswith("97.0%"))
    assert inside.get_ha() == "right" and inside.get_position()[0] < 97.0


def corpus(statuses):
    return pd.DataFrame({
        "sample": [f"s{i}" for i in range(len(statuses))], "path": [f"s{i}.mp4" for i in range(len(statuses))],
        "status": statuses, "reason": ["" if s != "failed" else "no audio stream" for s in statuses],
        "duration_s": 10.0, "speech_s": 5.0, "n_segments": 1, "guarded_units": 0, "speech_ratio": 0.5, "rtf": 0.1,
        "metric": None, "error_rate": None, "substitutions": None, "deletions": None, "insertions": None,
    })


def test_the_files_table_and_the_summary_count_one_file_as_one(tmp_path):
    files_html(corpus(["ok"]), {}, str(tmp_path / "files.html"), pd.DataFrame(columns=["sample"]))
    assert "<h3>1 file: 1 ok, 0 empty, 0 failed</h3>" in (tmp_path / "files.html").read_text()
    assert summary(corpus(["ok"])).splitlines() == ["firescribe: 1 input: 1 ok, 0 empty, 0 failed; 10.0 s audio, 5.0 s speech"]
    assert summary(corpus(["ok", "failed"])).splitlines() == [
        "firescribe: 2 inputs: 1 ok, 0 empty, 1 failed; 20.0 s audio, 10.0 s speech",
        "  FAILED s1.mp4: no audio stream",
    ]
