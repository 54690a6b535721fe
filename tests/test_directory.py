"""The README's `--directory` command: run from another folder, outputs under the given one,
the config found beside the Snakefile."""

import subprocess
import sys

import pytest

from support.workflow import REPO

pytestmark = pytest.mark.media_tools  # makes media with espeak-ng, sox, ffmpeg


def test_directory_run_from_another_folder(tmp_path):
    elsewhere, run = tmp_path / "elsewhere", tmp_path / "run1"
    elsewhere.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--cores", "2",
         "--directory", str(run), "--config", f"input={REPO / 'example' / 'media'}"],
        cwd=elsewhere, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "weather" in (run / "results" / "transcripts" / "firescribe_demo.txt").read_text().lower()
    assert not (elsewhere / "results").exists()


def test_a_moved_or_shared_corpus_gives_identical_transcripts(tmp_path):
    """The demo corpus in two places (a folder, and a sample sheet elsewhere): the transcripts
    and corpus tables are byte-identical; the JSON's source is the path as the user gave it."""
    import json
    import shutil

    from support.workflow import snakemake

    for place in ("a", "b"):
        shutil.copytree(REPO / "example" / "media", tmp_path / place / "videos")
        (tmp_path / place / "run").mkdir()
        snakemake(tmp_path / place / "run", config={"input": str(tmp_path / place / "videos")})
    outputs = sorted(p.relative_to(tmp_path / "a" / "run") for p in (tmp_path / "a" / "run" / "results" / "transcripts").iterdir())
    assert len(outputs) == 5
    for rel in [*outputs, "results/corpus.tsv"]:
        assert (tmp_path / "a" / "run" / rel).read_bytes() == (tmp_path / "b" / "run" / rel).read_bytes(), rel
    doc = json.loads((tmp_path / "a" / "run" / "results" / "transcripts" / "firescribe_demo.json").read_text())
    assert doc["source"] == "firescribe_demo.mp4"

    (tmp_path / "sheet.tsv").write_text("sample\tpath\ndemo\ta/videos/firescribe_demo.mp4\n", encoding="utf-8")
    (tmp_path / "c").mkdir()
    snakemake(tmp_path / "c", config={"input": str(tmp_path / "sheet.tsv")})
    doc = json.loads((tmp_path / "c" / "results" / "transcripts" / "demo.json").read_text())
    assert doc["source"] == "a/videos/firescribe_demo.mp4"


def test_a_moved_project_has_nothing_to_do(tmp_path):
    """A project folder (media, results, Snakemake's records) given relative to the working
    directory and moved as a whole: nothing to re-run there, the outputs untouched."""
    import shutil

    from support.workflow import snakemake

    before = tmp_path / "before" / "project"
    shutil.copytree(REPO / "example" / "media", before / "videos")
    snakemake(before, config={"input": "videos"})
    transcript = (before / "results" / "transcripts" / "firescribe_demo.json").read_bytes()
    after = tmp_path / "after" / "project"
    shutil.move(before.parent, after.parent)
    dry = snakemake(after, "-n", config={"input": "videos"})
    assert "Nothing to be done" in dry.stdout + dry.stderr, dry.stdout[-3000:]
    snakemake(after, config={"input": "videos"})
    assert (after / "results" / "transcripts" / "firescribe_demo.json").read_bytes() == transcript
