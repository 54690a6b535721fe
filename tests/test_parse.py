"""Reading the workflow changes nothing: a dry run (``snakemake -n``) and ``snakemake --lint``
leave every file as it was, also where a run would do something (a shard's merge record with
a transcript missing: the dry run lists its merge) and where the preflight checks a model
that a job writes later (the bundled FireRedVAD folder, on a fresh cache folder)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from support.workflow import REPO, planned_jobs, snakemake


def tree(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` (a symlink as its target), with its content's hash."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(folder, name), root)] = "folder"
        for name in files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            found[rel] = f"-> {os.readlink(path)}" if os.path.islink(path) else hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return found


def test_a_dry_run_and_the_linter_change_no_file(tmp_path):
    work, cache = tmp_path / "run", tmp_path / "cache"
    (work / "media").mkdir(parents=True)
    shutil.copy(REPO / "example" / "media" / "firescribe_demo.mp4", work / "media" / "a.mp4")
    shutil.copy(REPO / "example" / "media" / "firescribe_demo.mp4", work / "media" / "b.mp4")
    # a run's merge record with one transcript of its shard missing (the others there)
    merged = work / "results" / "work" / "merged"
    merged.mkdir(parents=True)
    (work / "results" / "transcripts").mkdir()
    for fmt in ("json", "txt", "srt", "vtt"):
        (work / "results" / "transcripts" / f"a.{fmt}").write_text("written by a run\n")
    (merged / "a.tsv").write_text("sample\tstatus\treason\na\tok\t\n")  # shards are named after their first file
    cache.mkdir()
    config = {"input": "media", "vad": {"model": "fireredvad"}}
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    before = tree(work)

    dry = snakemake(work, "-n", config=config, env=env)
    assert "merge" in planned_jobs(dry), dry.stdout
    snakemake(work, "--lint", config=config, env=env)

    after = tree(work)
    after.pop("test-config.yaml")  # the helper's: the config it gives Snakemake
    # what Snakemake keeps of its own, even for a dry run (its log, its cache of file
    # stats), under .snakemake/; nothing else
    assert {p: h for p, h in after.items() if p.split(os.sep)[0] != ".snakemake"} == before
    assert not (cache / "firescribe").exists()  # firescribe's (Snakemake keeps its own there too)
