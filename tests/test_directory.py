"""The README's `--directory` command: run from another folder, outputs under the given one,
the config found beside the Snakefile. The demo corpus finished twice (that command, and a
project folder with its media given relative to it) is shared by the tests here
(tests/support/corpora.py); a test that runs Snakemake on it works on a copy."""

import json
import shutil

import pytest
from support.corpora import DEMO_MEDIA, copy_project
from support.workflow import snakemake

pytestmark = pytest.mark.media_tools  # makes media with espeak-ng, sox, ffmpeg


def test_directory_run_from_another_folder(demo_elsewhere):
    proc, run = demo_elsewhere["proc"], demo_elsewhere["run"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "weather" in (run / "results" / "transcripts" / "firescribe_demo.txt").read_text().lower()
    assert not (demo_elsewhere["elsewhere"] / "results").exists()


def test_a_moved_or_shared_corpus_gives_identical_transcripts(demo_elsewhere, demo_project, tmp_path):
    """The demo corpus in two places (the example folder given absolute, and a copy of it in a
    project folder given relative to it; a sample sheet elsewhere): the transcripts and corpus
    tables are byte-identical; the JSON's source is the path as the user gave it."""
    a, b = demo_elsewhere["run"], demo_project["project"]
    assert demo_elsewhere["proc"].returncode == 0, demo_elsewhere["proc"].stderr[-3000:]
    outputs = sorted(p.relative_to(a) for p in (a / "results" / "transcripts").iterdir())
    assert len(outputs) == 5
    assert outputs == sorted(p.relative_to(b) for p in (b / "results" / "transcripts").iterdir())
    for rel in [*outputs, "results/corpus.tsv"]:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    doc = json.loads((a / "results" / "transcripts" / "firescribe_demo.json").read_text())
    assert doc["source"] == "firescribe_demo.mp4"

    shutil.copytree(DEMO_MEDIA, tmp_path / "a" / "videos")
    (tmp_path / "sheet.tsv").write_text("sample\tpath\ndemo\ta/videos/firescribe_demo.mp4\n", encoding="utf-8")
    (tmp_path / "c").mkdir()
    snakemake(tmp_path / "c", config={"input": str(tmp_path / "sheet.tsv")})
    doc = json.loads((tmp_path / "c" / "results" / "transcripts" / "demo.json").read_text())
    assert doc["source"] == "a/videos/firescribe_demo.mp4"


def test_a_moved_project_has_nothing_to_do(demo_project, tmp_path):
    """A project folder (media, results, Snakemake's records) given relative to the working
    directory and moved as a whole: nothing to re-run there, the outputs untouched. (The
    shared finished project, copied here, then moved.)"""
    before = copy_project(demo_project["project"], tmp_path / "before" / "project")
    config = demo_project["config"]
    transcript = (before / "results" / "transcripts" / "firescribe_demo.json").read_bytes()
    after = tmp_path / "after" / "project"
    shutil.move(before.parent, after.parent)
    dry = snakemake(after, "-n", config=config)
    assert "Nothing to be done" in dry.stdout + dry.stderr, dry.stdout[-3000:]
    snakemake(after, config=config)
    assert (after / "results" / "transcripts" / "firescribe_demo.json").read_bytes() == transcript
